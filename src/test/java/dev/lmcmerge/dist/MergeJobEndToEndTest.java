package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.JobConfig;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.data.Split;
import dev.lmcmerge.data.TokenDataSpec;
import dev.lmcmerge.data.TokenDataset;
import dev.lmcmerge.data.TokenDatasets;
import dev.lmcmerge.eval.Evaluation;
import dev.lmcmerge.model.ModelLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The merge job end to end in local[2] on two tiny models: every output of DESIGN.md section 7. */
class MergeJobEndToEndTest {
    @TempDir
    static Path tmp;

    static MergeJob.Outcome outcome;
    static String log;
    static final SparkSession SPARK = LocalSpark.get();

    static List<String> overrides(String runId, String... more) {
        List<String> o = new ArrayList<>(List.of(
                "model-a=" + tmp.resolve("a"), "model-b=" + tmp.resolve("b"),
                "data.eval=" + tmp.resolve("text.txt"), "data.seq-len=16", "data.batch-size=4",
                "eval.alphas=5", "eval.max-batches=2",
                "align.methods=[naive, weight-matching, dual]", "align.steps=2", "align.warmup=1",
                "align.checkpoint-every=1", "output.path=" + tmp.resolve("out"), "output.run-id=" + runId,
                "output.shard-size=12288", "compute.cache-size=64MB"));
        o.addAll(List.of(more));
        return o;
    }

    @BeforeAll
    static void runOnce() {
        Configuration conf = new Configuration();
        TinyCheckpoints.write(tmp.resolve("a").toString(), TinyCheckpoints.CONFIG, 1, conf);
        TinyCheckpoints.write(tmp.resolve("b").toString(), TinyCheckpoints.CONFIG, 2, conf);
        TinyCheckpoints.writeText(tmp.resolve("text.txt"), 4000);
        StringWriter sw = new StringWriter();
        outcome = MergeJob.run(SPARK, JobConfig.load(Optional.empty(), overrides("r1")), new PrintWriter(sw, true));
        log = sw.toString();
    }

    private static Path run() {
        return tmp.resolve("out/r1");
    }

    @Test
    void everyOutputIsPresentAndSuccessIsWrittenLast() throws IOException {
        for (String p : List.of("curves", "barriers", "transforms", "report.html", "run.json", "_SUCCESS",
                "merged/alpha=0.50/hf/config.json", "merged/alpha=0.50/hf/model.safetensors.index.json",
                "merged/alpha=0.50/parquet/part-00000.parquet")) {
            assertTrue(Files.exists(run().resolve(p)), p + " exists");
        }
        long success = Files.getLastModifiedTime(run().resolve("_SUCCESS")).toMillis();
        try (Stream<Path> all = Files.walk(run())) {
            for (Path f : all.filter(Files::isRegularFile).toList()) {
                assertTrue(Files.getLastModifiedTime(f).toMillis() <= success, f + " written before _SUCCESS");
            }
        }
        try (Stream<Path> all = Files.walk(run())) {
            assertEquals(List.of(), all.filter(f -> f.getFileName().toString().endsWith(".parquet.crc"))
                    .filter(f -> f.startsWith(run().resolve("merged")) || f.startsWith(run().resolve("transforms")))
                    .toList(), "the files the job writes itself have no .crc side files");
        }
        assertFalse(Files.exists(tmp.resolve("out/_staging")), "no staging folder left");
        assertFalse(Files.exists(tmp.resolve("out/_checkpoints/r1")), "checkpoints removed after success");
    }

    @Test
    void theMergedFolderNamedOnTheConsoleIsWhereTheRunPublishedIt() {
        String line = log.lines().filter(l -> l.startsWith("merged ")).findFirst().orElseThrow(() -> new AssertionError(log));
        Path printed = Path.of(java.net.URI.create(line.substring(line.indexOf(": ") + 2)));
        assertEquals(run().resolve("merged/alpha=0.50"), printed, line);
        assertTrue(Files.isDirectory(printed), line);
    }

    @Test
    void curvesAndBarriersHaveOneEntryPerMethodAndAlpha() {
        Dataset<Row> curves = SPARK.read().parquet(run().resolve("curves").toString());
        assertEquals(List.of(ResultTables.CURVES.fieldNames()), List.of(curves.schema().fieldNames()));
        assertEquals(3 * 5, curves.count());
        Dataset<Row> barriers = SPARK.read().parquet(run().resolve("barriers").toString());
        assertEquals(List.of(ResultTables.BARRIERS.fieldNames()), List.of(barriers.schema().fieldNames()));
        assertEquals(List.of("dual", "naive", "weight-matching"),
                barriers.select("method").as(org.apache.spark.sql.Encoders.STRING()).collectAsList().stream()
                        .sorted().toList());
        Row naive0 = curves.filter("method = 'naive' AND alpha = 0.0").first();
        Row wm0 = curves.filter("method = 'weight-matching' AND alpha = 0.0").first();
        assertEquals((double) naive0.getAs("loss"), (double) wm0.getAs("loss"), 1e-4,
                "aligning never changes model A's loss");
        Row naive1 = curves.filter("method = 'naive' AND alpha = 1.0").first();
        Row dual1 = curves.filter("method = 'dual' AND alpha = 1.0").first();
        assertEquals((double) naive1.getAs("loss"), (double) dual1.getAs("loss"), 1e-4,
                "aligning never changes model B's loss");
    }

    @Test
    void transformsHoldTheLearnedAndMatchedParameters() {
        Dataset<Row> t = SPARK.read().parquet(run().resolve("transforms").toString());
        assertTrue(t.filter("method = 'weight-matching' AND model = 'b'").count() > 0);
        assertTrue(t.filter("method = 'dual' AND model = 'a'").count() > 0);
        Row r = t.filter("slot = 'residual' AND method = 'dual' AND model = 'b'").first();
        List<Integer> shape = r.getList(r.fieldIndex("shape"));
        long n = shape.stream().mapToLong(Integer::longValue).reduce(1, (x, y) -> x * y);
        assertEquals(n, r.getList(r.fieldIndex("values")).size());
    }

    @Test
    void learnedSymmetriesLeaveTheOtherSlotsAtTheirMatchedValue() {
        StringWriter sw = new StringWriter();
        MergeJob.run(SPARK, JobConfig.load(Optional.empty(), overrides("r-learned",
                "align.methods=[dual]", "align.learned-symmetries=[residual, qk, vo]", "output.merged-alphas=[]")),
                new PrintWriter(sw, true));
        assertTrue(Files.exists(tmp.resolve("out/r-learned/_SUCCESS")), sw.toString());
        assertTrue(sw.toString().contains("learned symmetries: residual, qk, vo"), sw.toString());
        Dataset<Row> t = SPARK.read().parquet(tmp.resolve("out/r-learned/transforms").toString());
        assertTrue(t.filter("method = 'weight-matching' AND kind = 'ffn_permutation'").count() > 0,
                "weight matching still permutes the FFN units");
        assertEquals(0, t.filter("method = 'dual' AND kind IN ('ffn_permutation', 'head_groups', 'heads_in_group')").count(),
                "the learned transforms hold only learned slots");
        assertTrue(t.filter("method = 'dual' AND model = 'b' AND kind = 'qk'").count() > 0);
    }

    @Test
    void mergedHfFolderLoadsAndScoresLikeTheCurveAtItsAlpha() throws IOException {
        Path hf = run().resolve("merged/alpha=0.50/hf");
        JsonNode index = new ObjectMapper().readTree(hf.resolve("model.safetensors.index.json").toFile());
        assertTrue(index.get("weight_map").size() > 0);
        Configuration conf = new Configuration();
        TokenDataset eval = TokenDatasets.load(new TokenDataSpec(tmp.resolve("text.txt").toString(), null, null, 16), conf)
                .split(Split.EVAL, 0.1);
        try (NDManager m = NDManager.newBaseManager();
             ModelLoader.LoadedModel merged = ModelLoader.open(hf.toString(), m)) {
            Evaluation.Result r = Evaluation.causalLm(merged.architecture(), merged.weights(), eval, 4, 2, null);
            EvaluationJob.Curve c = outcome.curves().stream().filter(x -> x.method().equals(outcome.mergedMethod()))
                    .findFirst().orElseThrow();
            assertEquals(c.points().get(2).loss(), r.loss(), 1e-4, "merged checkpoint = the curve at alpha 0.5");
        }
    }

    @Test
    void mergedParquetShardsHoldEveryTensorOnce() {
        Dataset<Row> p = SPARK.read().parquet(run().resolve("merged/alpha=0.50/parquet").toString());
        assertEquals(List.of("name", "chunk", "dtype", "shape", "data"), List.of(p.schema().fieldNames()));
        long tensors = p.select("name").distinct().count();
        assertEquals(p.count(), tensors, "tiny tensors: one chunk each");
        assertTrue(tensors >= 10);
    }

    @Test
    void reportAndRunJsonDescribeTheRun() throws IOException {
        String html = Files.readString(run().resolve("report.html"));
        assertTrue(html.contains("<svg") && html.contains("model A") && html.contains("model B"));
        for (String m : List.of("naive", "weight-matching", "dual")) {
            assertTrue(html.contains(">" + m + "<"), m + " in the report");
        }
        JsonNode run = new ObjectMapper().readTree(run().resolve("run.json").toFile());
        assertEquals("r1", run.get("run_id").asText());
        assertEquals(2, run.get("steps").get("dual").get("loss").size());
        assertTrue(run.get("versions").has("lmc-merge"));
        assertTrue(run.get("timings_seconds").has("learn dual"));
        assertEquals(2, run.get("config").get("align").get("steps").asInt());
    }

    @Test
    void theLogShowsThePlanTheStepsAndTheBarrierTable() {
        assertTrue(log.contains("plan: model A"), log);
        assertTrue(log.contains("align dual: step 2/2"), log);
        assertTrue(log.contains("barrier_rel"), log);
    }

    @Test
    void modeErrorRefusesAnExistingRunNamingItsPath() {
        LmcException e = assertThrows(LmcException.class, () -> MergeJob.run(SPARK,
                JobConfig.load(Optional.empty(), overrides("r1")), new PrintWriter(new StringWriter())));
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertTrue(e.getMessage().contains(run().toString()), e.getMessage());
    }

    @Test
    void resumeOfACompleteRunDoesNothing() {
        MergeJob.Outcome o = MergeJob.run(SPARK, JobConfig.load(Optional.empty(), overrides("r1", "output.mode=resume")),
                new PrintWriter(new StringWriter()));
        assertTrue(o.alreadyComplete());
    }
}
