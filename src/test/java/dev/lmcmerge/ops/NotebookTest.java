package dev.lmcmerge.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lmcmerge.config.JobConfig;
import dev.lmcmerge.dist.MergeJob;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * notebooks/barrier_curves.ipynb executed headless (jupyter nbconvert) against the output of the
 * merge job: two complete runs and an incomplete one under one output path. The notebook must plot
 * the complete runs, skip the incomplete one, and write its figure.
 *
 * <p>Needs the notebook's Python packages: {@code python3 -m pip install -r notebooks/requirements.txt}.
 */
class NotebookTest {
    private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    private static SparkSession spark;
    private static boolean ownSession;

    @BeforeAll
    static void produceRuns() throws IOException {
        Configuration conf = new Configuration();
        TinyPair.writeModel(tmp.resolve("a").toString(), 1, conf);
        TinyPair.writeModel(tmp.resolve("b").toString(), 2, conf);
        TinyPair.writeText(tmp.resolve("text.txt").toUri().toString(), 4000, conf);
        ownSession = SparkSession.getDefaultSession().isEmpty();
        spark = SparkSession.builder().master("local[2]").appName("lmc-ops-test")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
                .getOrCreate();
        merge("r1", "align.methods=[naive, weight-matching, dual]");
        merge("r2", "align.methods=[naive]");
        // r3: a run whose _SUCCESS is missing, as a killed or still running job leaves it.
        copyTree(tmp.resolve("out/r2"), tmp.resolve("out/r3"));
        Files.delete(tmp.resolve("out/r3/_SUCCESS"));
    }

    @AfterAll
    static void stopSpark() {
        if (ownSession && spark != null) {
            spark.stop();
        }
    }

    private static void merge(String runId, String... more) {
        List<String> o = new ArrayList<>(List.of(
                "model-a=" + tmp.resolve("a"), "model-b=" + tmp.resolve("b"), "data.eval=" + tmp.resolve("text.txt"),
                "data.seq-len=16", "data.batch-size=4", "eval.alphas=5", "eval.max-batches=2", "align.steps=2",
                "align.warmup=1", "output.path=" + tmp.resolve("out"), "output.run-id=" + runId,
                "output.formats=[parquet]", "compute.cache-size=64MB"));
        o.addAll(Arrays.asList(more));
        MergeJob.run(spark, JobConfig.load(Optional.empty(), o), new PrintWriter(new StringWriter()));
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    /** Executes the notebook with LMC_RUNS = {@code runs}; returns the result and the executed notebook's stdout. */
    private static Execution execute(String runs, Path figure) throws Exception {
        Path executed = tmp.resolve("executed-" + System.nanoTime() + ".ipynb");
        Commands.Result r = Commands.run(Map.of("LMC_RUNS", runs, "LMC_FIGURE", figure.toString()),
                Duration.ofMinutes(4), List.of("python3", "-m", "nbconvert", "--to", "notebook", "--execute",
                        "--ExecutePreprocessor.timeout=300", "notebooks/barrier_curves.ipynb",
                        "--output", executed.toString()));
        if (r.exitCode() != 0 && r.stderr().contains("No module named")) {
            throw new AssertionError("the notebook's Python packages are missing; install them with"
                    + " `python3 -m pip install -r notebooks/requirements.txt`\n" + r.describe());
        }
        StringBuilder stdout = new StringBuilder();
        boolean image = false;
        if (Files.exists(executed)) {
            for (JsonNode cell : JSON.readTree(executed.toFile()).path("cells")) {
                for (JsonNode out : cell.path("outputs")) {
                    if ("stdout".equals(out.path("name").asText())) {
                        out.path("text").forEach(t -> stdout.append(t.asText()));
                        if (out.path("text").isTextual()) {
                            stdout.append(out.path("text").asText());
                        }
                    }
                    image |= out.path("data").has("image/png");
                }
            }
        }
        return new Execution(r, stdout.toString(), image);
    }

    private record Execution(Commands.Result result, String stdout, boolean inlineImage) {
        String describe() {
            return result.describe() + "\n--- notebook stdout ---\n" + stdout;
        }
    }

    private static void assertPng(Path figure) throws IOException {
        assertTrue(Files.exists(figure), figure + " written");
        byte[] head = Arrays.copyOf(Files.readAllBytes(figure), PNG.length);
        assertArrayEquals(PNG, head, "a PNG file");
        assertTrue(Files.size(figure) > 10_000, "a real plot, not an empty canvas: " + Files.size(figure) + " bytes");
    }

    @Test
    void aRunsRootPlotsEveryCompleteRunSkipsTheIncompleteOneAndSavesTheFigure() throws Exception {
        Path figure = tmp.resolve("root/barriers.png");
        Execution e = execute(tmp.resolve("out").toString(), figure);

        assertEquals(0, e.result().exitCode(), e.describe());
        assertPng(figure);
        assertTrue(e.inlineImage(), "the figure is shown in the notebook too");
        assertTrue(e.stdout().contains("plotted run r1: 3 method(s)"), e.describe());
        assertTrue(e.stdout().contains("plotted run r2: 1 method(s)"), e.describe());
        assertTrue(e.stdout().contains("skipped " + tmp.resolve("out/r3")), e.describe());
        assertTrue(!e.stdout().contains("plotted run r3"), e.describe());
    }

    @Test
    void aGlobOfCurvesTablesAndAListOfRunsWorkAsWell() throws Exception {
        Path globFigure = tmp.resolve("glob.svg");
        Execution glob = execute(tmp.resolve("out") + "/*/curves", globFigure);
        assertEquals(0, glob.result().exitCode(), glob.describe());
        assertTrue(glob.stdout().contains("2 complete run(s)"), glob.describe());
        assertTrue(Files.readString(globFigure).contains("<svg"), "the extension picks the format");

        Path listFigure = tmp.resolve("list.png");
        Execution list = execute(tmp.resolve("out/r1") + "," + tmp.resolve("out/r1/barriers"), listFigure);
        assertEquals(0, list.result().exitCode(), list.describe());
        assertTrue(list.stdout().contains("1 complete run(s)"), "the same run named twice is plotted once: "
                + list.describe());
        assertPng(listFigure);
    }

    @Test
    void noCompleteRunFailsTheExecutionWithASayingMessage() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty-root"));
        Path figure = tmp.resolve("none.png");
        Execution e = execute(empty.toString(), figure);

        assertTrue(e.result().exitCode() != 0, e.describe());
        assertTrue((e.result().stderr() + e.result().stdout()).contains("no complete run found"), e.describe());
        assertTrue(!Files.exists(figure));
    }
}
