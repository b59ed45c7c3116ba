package dev.lmcmerge.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.ComputeConfig;
import dev.lmcmerge.config.DataConfig;
import dev.lmcmerge.config.JobConfig;
import dev.lmcmerge.config.OutputConfig;
import dev.lmcmerge.config.Secrets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The example job files in conf/ load and validate with the job's own loader (JobConfig: unknown
 * keys, types and ranges; the paths need not exist), set what {@code merge} requires, and each says
 * what its name promises: where its data lives and what it computes on.
 */
class ExampleJobFilesTest {

    static Stream<Path> jobFiles() throws IOException {
        try (Stream<Path> s = Files.list(Commands.ROOT.resolve("conf"))) {
            List<Path> files = s.filter(p -> p.toString().endsWith(".conf")).sorted().toList();
            assertTrue(files.size() >= 4, "conf/ holds " + files);
            return files.stream();
        }
    }

    private static JobConfig load(String name, String... overrides) {
        return JobConfig.load(Optional.of(Commands.ROOT.resolve("conf").resolve(name).toString()), List.of(overrides));
    }

    @ParameterizedTest
    @MethodSource("jobFiles")
    void everyExampleValidatesAndSetsWhatMergeRequires(Path file) {
        JobConfig c = JobConfig.load(Optional.of(file.toString()), List.of());

        JobConfig.require(c.modelA(), "lmc.model-a");
        JobConfig.require(c.modelB(), "lmc.model-b");
        JobConfig.require(c.data().eval(), "lmc.data.eval");
        JobConfig.require(c.output().path(), "lmc.output.path");
        assertFalse(c.align().methods().isEmpty());
    }

    @ParameterizedTest
    @MethodSource("jobFiles")
    void everyExampleTakesTheOverridesASchedulerAdds(Path file) {
        JobConfig c = JobConfig.load(Optional.of(file.toString()),
                List.of("output.run-id=scheduled__2026-03-01T00_00_00_00_00", "output.mode=resume", "align.steps=5"));

        assertEquals(Optional.of("scheduled__2026-03-01T00_00_00_00_00"), c.output().runId());
        assertEquals(OutputConfig.Mode.RESUME, c.output().mode());
        assertEquals(5, c.align().steps());
    }

    @ParameterizedTest
    @MethodSource("jobFiles")
    void everyExampleStartsWithACommentSayingWhatItIs(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertTrue(lines.get(0).startsWith("# ") && lines.get(0).length() > 10, file + ": " + lines.get(0));
    }

    @Test
    void thePythiaPairLivesOnHdfsAndComputesOnCpus() {
        JobConfig c = load("pythia-410m-hdfs.conf");

        for (String location : List.of(c.modelA().orElseThrow(), c.modelB().orElseThrow(),
                c.data().eval().orElseThrow(), c.data().train().orElseThrow(), c.output().path().orElseThrow())) {
            assertTrue(location.startsWith("hdfs://"), location);
        }
        assertTrue(c.modelA().orElseThrow().contains("pythia-410m"));
        assertEquals(ComputeConfig.Device.CPU, c.compute().device());
        assertTrue(c.hadoopProperties().isEmpty(), "no S3 settings for an HDFS job");
    }

    @Test
    void theLlamaPairLivesOnS3ComputesOnGpusAndNamesNoCredentials() {
        JobConfig c = load("llama-1b-s3-gpu.conf");

        for (String location : List.of(c.modelA().orElseThrow(), c.modelB().orElseThrow(),
                c.data().eval().orElseThrow(), c.data().train().orElseThrow(), c.output().path().orElseThrow())) {
            assertTrue(location.startsWith("s3a://"), location);
        }
        assertEquals(ComputeConfig.Device.GPU, c.compute().device());
        assertFalse(c.hadoopProperties().isEmpty(), "the S3A settings of the example");
        c.hadoopProperties().keySet().forEach(k -> {
            assertTrue(k.startsWith("fs.s3a."), k);
            assertFalse(Secrets.isSecret(k), "credentials come from the provider chain, not the job file: " + k);
        });
    }

    @Test
    void theVitPairReadsLabelledImagesFromParquet() {
        JobConfig c = load("vit-images.conf");

        assertEquals(DataConfig.Format.IMAGES, c.data().format());
        assertTrue(c.modelA().orElseThrow().contains("vit"), c.modelA().orElseThrow());
    }

    @Test
    void theLlamaExamplesCredentialsCanComeFromTheCommandLineAndAreNeverRendered() {
        String secret = "not-a-real-secret-" + System.nanoTime();
        JobConfig c = load("llama-1b-s3-gpu.conf", "s3.\"fs.s3a.secret.key\"=" + secret,
                "s3.\"fs.s3a.access.key\"=AKIDEXAMPLE");

        assertEquals(secret, c.hadoopProperties().get("fs.s3a.secret.key"));
        assertFalse(c.renderRedacted().contains(secret), c.renderRedacted());
        assertFalse(c.redactedJson().contains(secret), c.redactedJson());
        assertFalse(c.toString().contains("AKIDEXAMPLE"), c.toString());
    }
}
