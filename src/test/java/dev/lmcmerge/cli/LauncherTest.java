package dev.lmcmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** bin/lmc runs the same program with the same JVM flags as the tests. */
class LauncherTest {
    private static final Path LAUNCHER = Path.of("bin/lmc");

    @Test
    void launcherUsesThePomsJvmFlags() throws IOException {
        Matcher m = Pattern.compile("<jvm.opens>(.*)</jvm.opens>").matcher(Files.readString(Path.of("pom.xml")));
        assertTrue(m.find(), "pom.xml has no jvm.opens property");
        Set<String> pom = new TreeSet<>(Arrays.asList(m.group(1).trim().split("\\s+")));
        String script = Files.readString(LAUNCHER);
        String block = script.substring(script.indexOf("opens=("), script.indexOf(")", script.indexOf("opens=(")));
        Set<String> launcher = Arrays.stream(block.substring("opens=(".length()).trim().split("\\s+"))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(pom, launcher);
    }

    @Test
    void launcherRunsThisMainClassAndScriptsAreExecutable() throws IOException {
        assertTrue(Files.readString(LAUNCHER).contains(Main.class.getName() + " \"$@\""));
        assertTrue(Files.isExecutable(LAUNCHER), "bin/lmc is not executable");
        assertTrue(Files.isExecutable(Path.of(".ci/run")), ".ci/run is not executable");
    }
}
