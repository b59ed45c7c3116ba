package dev.lmcmerge.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.LmcException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parquet files whose few corrupt bytes make parquet-mr ask for gigabytes (the fuzzer found both
 * in CI) are refused as corrupt data, exit 3 naming the file, in a 256 MiB heap: the size only
 * fails to allocate in a heap smaller than it, so the test runs the reader in a child JVM.
 */
class ParquetAllocationBombTest {
    private static final Path SEEDS = Path.of("src/test/resources/dev/lmcmerge/fuzz/ParquetTokensFuzzTestInputs/parquetTokens");

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"regression-oom-page-size", "regression-oom-bitpacked-run"})
    void aFileAskingForMoreMemoryThanTheHeapHasIsRefusedAsCorrupt(String seed) throws Exception {
        byte[] fuzzInput = Files.readAllBytes(SEEDS.resolve(seed));
        Path file = tmp.resolve("tokens.parquet");
        Files.write(file, Arrays.copyOf(fuzzInput, fuzzInput.length - 1)); // the last byte is the fuzzer's seq-len

        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                Probe.class.getName(), file.toString()).redirectErrorStream(true).start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done, "child JVM timed out: " + out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("exit=3 ") && out.contains(file.toString()) && out.contains("corrupt Parquet data"), out);
    }

    /** Loads one token file and prints how it was refused. */
    static final class Probe {
        public static void main(String[] args) {
            try {
                TokenDatasets.load(new TokenDataSpec(args[0], DataFormat.PARQUET, "bytes", 4), new Configuration());
                System.out.println("loaded");
            } catch (LmcException e) {
                System.out.println("exit=" + e.exitCode().code() + " " + e.getMessage());
            }
        }
    }
}
