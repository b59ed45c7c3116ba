package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.JobConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Failures: a failed run publishes nothing, a retried task changes nothing, a resumed run ends as an uninterrupted one. */
class MergeJobFailureTest {
    @TempDir
    static Path tmp;

    static final SparkSession SPARK = LocalSpark.get();
    /** The dual run without any failure, the reference of the other runs. */
    static Map<String, float[]> reference;
    static double[] referenceCurve;

    static JobConfig job(String runId, String... more) {
        List<String> o = new ArrayList<>(List.of(
                "model-a=" + tmp.resolve("a"), "model-b=" + tmp.resolve("b"),
                "data.eval=" + tmp.resolve("text.txt"), "data.seq-len=16", "data.batch-size=4",
                "eval.alphas=3", "eval.max-batches=1", "align.methods=[dual]", "align.init=identity",
                "align.steps=4", "align.warmup=0", "align.checkpoint-every=2", "output.merged-alphas=[]",
                "output.path=" + tmp.resolve("out"), "output.run-id=" + runId));
        o.addAll(List.of(more));
        return JobConfig.load(Optional.empty(), o);
    }

    static MergeJob.Outcome run(JobConfig job) {
        return MergeJob.run(SPARK, job, new PrintWriter(new StringWriter(), true));
    }

    @BeforeAll
    static void modelsAndReference() {
        Configuration conf = new Configuration();
        TinyCheckpoints.write(tmp.resolve("a").toString(), TinyCheckpoints.CONFIG, 11, conf);
        TinyCheckpoints.write(tmp.resolve("b").toString(), TinyCheckpoints.CONFIG, 12, conf);
        TinyCheckpoints.writeText(tmp.resolve("text.txt"), 3000);
        MergeJob.Outcome o = run(job("reference"));
        reference = transforms("reference");
        referenceCurve = o.curves().get(0).losses();
    }

    @AfterEach
    void disarm() {
        FaultInjection.reset();
        LearnedMatchingRun.afterStep = t -> { };
    }

    /** method/model/slot -> values of a run's transforms table. */
    static Map<String, float[]> transforms(String runId) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Row r : SPARK.read().parquet(tmp.resolve("out/" + runId + "/transforms").toString())
                .orderBy("method", "model", "slot").collectAsList()) {
            List<Float> v = r.getList(r.fieldIndex("values"));
            float[] a = new float[v.size()];
            for (int i = 0; i < a.length; i++) {
                a[i] = v.get(i);
            }
            out.put(r.getAs("method") + "/" + r.getAs("model") + "/" + r.getAs("slot"), a);
        }
        return out;
    }

    static void assertSameTransforms(Map<String, float[]> expected, Map<String, float[]> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String k : expected.keySet()) {
            float[] e = expected.get(k);
            float[] a = actual.get(k);
            assertEquals(e.length, a.length, k);
            for (int i = 0; i < e.length; i++) {
                assertEquals(e[i], a[i], 1e-6f * Math.max(1f, Math.abs(e[i])), k + "[" + i + "]");
            }
        }
    }

    @Test
    void aFailedRunLeavesNoSuccessAndNothingAtTheFinalPath() throws IOException {
        FaultInjection.arm("evaluate", 1000);
        assertThrows(Exception.class, () -> run(job("failed", "align.methods=[naive]")));
        assertFalse(Files.exists(tmp.resolve("out/failed")), "nothing at the final path");
        try (Stream<Path> s = Files.exists(tmp.resolve("out/_staging")) ? Files.list(tmp.resolve("out/_staging"))
                : Stream.empty()) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith("failed-")), "no staging left behind");
        }
    }

    @Test
    void aTaskThatFailsOnceIsRetriedAndTheResultIsUnchanged() {
        // The failure is armed after step 2, so it hits a gradient task of step 3 (an executor task,
        // not the driver: a driver-side throw would fail the run).
        LearnedMatchingRun.afterStep = t -> {
            if (t == 2) {
                FaultInjection.arm("gradient", 1);
            }
        };
        MergeJob.Outcome o;
        List<SparkTaskLog.Attempt> tasks;
        try (SparkTaskLog log = SparkTaskLog.on(SPARK.sparkContext())) {
            o = run(job("retried"));
            tasks = log.attempts();
        }
        assertTrue(FaultInjection.spent("gradient"), "the injected failure happened");
        List<SparkTaskLog.Attempt> failed = tasks.stream().filter(a -> a.error() != null).toList();
        assertEquals(1, failed.size(), "one task attempt failed: " + failed);
        SparkTaskLog.Attempt f = failed.get(0);
        assertTrue(f.error().contains("injected failure at gradient"), f.error());
        assertTrue(f.job().startsWith("align dual step 3/4"), "in a task of step 3: " + f.job());
        assertTrue(tasks.stream().anyMatch(a -> a.stage() == f.stage() && a.index() == f.index()
                && a.attempt() == f.attempt() + 1 && a.error() == null), "Spark ran the task again: " + tasks);
        assertSameTransforms(reference, transforms("retried"));
        assertArrayEquals(referenceCurve, o.curves().get(0).losses(), 1e-6);
    }

    @Test
    void aRunKilledAfterSomeStepsAndResumedEndsAsAnUninterruptedRun() {
        LearnedMatchingRun.afterStep = t -> {
            if (t == 3) {
                throw new IllegalStateException("killed after step 3 (test)");
            }
        };
        assertThrows(IllegalStateException.class, () -> run(job("resumed")));
        assertFalse(Files.exists(tmp.resolve("out/resumed")));
        assertTrue(Files.exists(tmp.resolve("out/_checkpoints/resumed/dual-step-00000002.safetensors")),
                "the state of step 2 was saved");
        LearnedMatchingRun.afterStep = t -> assertTrue(t > 2, "resumed runs continue after the saved step");
        MergeJob.Outcome o = run(job("resumed", "output.mode=resume"));
        assertTrue(Files.exists(tmp.resolve("out/resumed/_SUCCESS")));
        assertSameTransforms(reference, transforms("resumed"));
        assertArrayEquals(referenceCurve, o.curves().get(0).losses(), 1e-6);
    }
}
