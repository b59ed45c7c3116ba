package dev.lmcmerge.dist;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Starts a JVM with this test JVM's classpath and module flags (not a test class): for the fault
 * tests that need a driver or executors of their own, which a test can then kill.
 */
final class ChildJvm {
    private ChildJvm() {}

    /** The test classpath (surefire's, when it runs the tests through a manifest-only jar). */
    static String classpath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    /** This JVM's --add-opens and related flags, which Spark needs on Java 17. */
    static List<String> moduleFlags() {
        return ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens") || a.startsWith("-Djdk.reflect") || a.startsWith("-Dio.netty"))
                .toList();
    }

    /**
     * Starts {@code mainClass args} with the given system properties and environment; stdout
     * and stderr go to {@code log} (appended).
     */
    static Process start(String heap, Map<String, String> properties, Map<String, String> env, Path log,
                         String mainClass, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + heap);
        cmd.addAll(moduleFlags());
        cmd.add("-Dai.djl.offline=true");
        cmd.add("-Dai.djl.default_engine=PyTorch");
        properties.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.add("-cp");
        cmd.add(classpath());
        cmd.add(mainClass);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        return pb.start();
    }

    /** The classpath as one string of existing entries (for spark.executor.extraClassPath). */
    static String existingClasspath() {
        List<String> out = new ArrayList<>();
        for (String e : classpath().split(File.pathSeparator)) {
            if (!e.isEmpty() && new File(e).exists()) {
                out.add(e);
            }
        }
        return String.join(File.pathSeparator, out);
    }
}
