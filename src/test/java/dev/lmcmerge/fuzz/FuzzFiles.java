package dev.lmcmerge.fuzz;

import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.SafetensorsHeader;
import dev.lmcmerge.io.TensorInfo;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;

/**
 * What the fuzz tests share: one Hadoop configuration (building one per input would dominate the
 * run time), a scratch folder per JVM that is deleted on exit, and the rule every target checks:
 * a reader either accepts its input or throws the documented {@link LmcException} with exit code
 * {@link ExitCode#INVALID_INPUT} and a message naming the file. Anything else propagates and is a
 * finding.
 */
final class FuzzFiles {
    static final Configuration CONF = new Configuration();

    private FuzzFiles() {}

    /** A fresh, empty scratch folder removed when the JVM exits. */
    static Path scratch(String name) {
        try {
            Path dir = Files.createTempDirectory("lmc-fuzz-" + name + "-");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void write(Path file, byte[] bytes) {
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Runs {@code reader}; an {@link LmcException} is accepted only with one of {@code allowed}
     * exit codes and a message containing {@code names} (the file or key at fault).
     */
    static void rejectsOnlyAsDocumented(Runnable reader, String names, ExitCode... allowed) {
        try {
            reader.run();
        } catch (LmcException e) {
            boolean ok = false;
            for (ExitCode c : allowed.length == 0 ? new ExitCode[] {ExitCode.INVALID_INPUT} : allowed) {
                ok |= e.exitCode() == c;
            }
            if (!ok) {
                throw new AssertionError("undocumented exit code " + e.exitCode() + ": " + e.getMessage(), e);
            }
            if (e.getMessage() == null || !e.getMessage().contains(names)) {
                throw new AssertionError("message does not name '" + names + "': " + e.getMessage(), e);
            }
        }
    }

    /** A valid safetensors file of float32 tensors named by {@code shapes}, values 0, 1, 2, ... */
    static byte[] safetensors(Map<String, long[]> shapes) {
        List<TensorInfo> infos = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            TensorInfo t = TensorInfo.of(e.getKey(), DType.F32, e.getValue()).at(offset);
            infos.add(t);
            offset = t.end();
        }
        byte[] header = SafetensorsHeader.encode(infos, Map.of("format", "pt"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < 8; i++) {
            out.write((int) ((long) header.length >>> (8 * i)) & 0xff);
        }
        out.writeBytes(header);
        for (long i = 0; i < offset / 4; i++) {
            int bits = Float.floatToIntBits(i);
            for (int k = 0; k < 4; k++) {
                out.write((bits >>> (8 * k)) & 0xff);
            }
        }
        return out.toByteArray();
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort at exit
        }
    }
}
