package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.cli.Main;
import dev.lmcmerge.config.JobConfig;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Processes killed in the middle of a run (dual, 4 learned steps, state saved every 2, merged
 * checkpoint at alpha 0.5 in three shards) do not change the result: each run here ends with the
 * transforms, curves, step losses and merged checkpoint (byte for byte) of one uninterrupted run
 * of the same job in this JVM.
 *
 * <ul>
 *   <li>Executors: the job runs under {@code lmc merge} in a driver JVM of its own on Spark's
 *       {@code local-cluster[2,1,1024]}, a standalone master and two workers inside the driver
 *       that launch real executor JVMs from this test's classpath (the "Spark home" is an empty
 *       folder: the Maven classpath holds Spark), writing to HDFS (a MiniDFSCluster here).
 *       {@link HaltExecutorOncePlugin} halts the executor that starts the first task of step 2
 *       (losing the task, the executor's model cache and its blocks), and later the executor
 *       that reaches the third tensor of a merged-checkpoint file, with that file open on HDFS.
 *       Spark runs each lost task again elsewhere and the master launches replacements.</li>
 *   <li>The driver: {@code lmc merge} in its own JVM ({@link HeldDriverMain}) is killed with
 *       SIGKILL after step 3, when the state of step 2 is saved and step 3 exists only in its
 *       memory; the job submitted again with {@code output.mode=resume} redoes step 3.</li>
 * </ul>
 */
class KilledProcessesTest {
    static final SparkSession SPARK = LocalSpark.get();

    @TempDir
    static Path tmp;
    static Path out;

    static List<String> settings(String runId) {
        return settings(runId, out.toString());
    }

    static List<String> settings(String runId, String outputPath) {
        return new ArrayList<>(List.of(
                "model-a=" + tmp.resolve("a"), "model-b=" + tmp.resolve("b"),
                "data.eval=" + tmp.resolve("text.txt"), "data.seq-len=16", "data.batch-size=4",
                "eval.alphas=3", "eval.max-batches=1", "align.methods=[dual]", "align.init=identity",
                "align.steps=4", "align.warmup=0", "align.checkpoint-every=2", "output.merged-alphas=[0.5]",
                "output.shard-size=24576", "compute.cache-size=64MB", "output.path=" + outputPath,
                "output.run-id=" + runId));
    }

    /** {@code merge} and the job's settings, writing to {@code outputPath}, then {@code more}. */
    static List<String> mergeArgs(String runId, String outputPath, String... more) {
        List<String> args = new ArrayList<>(List.of("merge"));
        args.addAll(settings(runId, outputPath));
        args.addAll(List.of(more));
        return args;
    }

    @BeforeAll
    static void modelsAndUninterruptedRun() {
        out = tmp.resolve("out");
        Configuration conf = new Configuration();
        TinyCheckpoints.write(tmp.resolve("a").toString(), TinyCheckpoints.CONFIG, 21, conf);
        TinyCheckpoints.write(tmp.resolve("b").toString(), TinyCheckpoints.CONFIG, 22, conf);
        TinyCheckpoints.writeText(tmp.resolve("text.txt"), 3000);
        MergeJob.run(SPARK, JobConfig.load(Optional.empty(), settings("uninterrupted")),
                new PrintWriter(new StringWriter(), true));
    }

    @Test
    void executorsLostMidStepAndMidWriteDoNotChangeTheResult() throws Exception {
        String run = "lost-executors";
        Path sparkHome = tmp.resolve("spark-home");
        Files.createDirectories(sparkHome.resolve("jars"));
        Files.createFile(sparkHome.resolve("RELEASE")); // a "distribution" whose jars/ is empty
        Path haltedInStep = tmp.resolve("halted-in-step");
        Path haltedInWrite = tmp.resolve("halted-in-write");
        Path log = tmp.resolve("lost-executors.log");
        File dfsBase = tmp.resolve("dfs").toFile();
        Configuration dfsConf = new Configuration();
        dfsConf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, dfsBase.getAbsolutePath());
        MiniDFSCluster dfs = new MiniDFSCluster.Builder(dfsConf, dfsBase).numDataNodes(1).build();
        try {
            dfs.waitActive();
            String runs = dfs.getURI() + "/runs";
            Process driver = ChildJvm.start("1g", Map.of(
                            "spark.master", "local-cluster[2,1,1024]",
                            "spark.executor.extraClassPath", ChildJvm.existingClasspath(),
                            "spark.executor.extraJavaOptions", String.join(" ", ChildJvm.moduleFlags())
                                    + " -Dai.djl.offline=true -Dai.djl.default_engine=PyTorch",
                            "spark.ui.enabled", "false",
                            "spark.log.level", "WARN",
                            "spark.plugins", HaltExecutorOncePlugin.class.getName(),
                            HaltExecutorOncePlugin.MARKER, haltedInStep.toString(),
                            HaltExecutorOncePlugin.JOB, "align dual step 2/",
                            HaltExecutorOncePlugin.WRITE_MARKER, haltedInWrite.toString()),
                    Map.of("SPARK_HOME", sparkHome.toString(), "SPARK_SCALA_VERSION", "2.13"), log,
                    Main.class.getName(), mergeArgs(run, runs));
            boolean ended = driver.waitFor(5, TimeUnit.MINUTES);
            if (!ended) {
                driver.destroyForcibly().waitFor();
            }
            String output = Files.readString(log);
            assertTrue(ended, "the run ended in time; its output:\n" + tail(output));
            assertEquals(0, driver.exitValue(), tail(output));
            assertTrue(Files.readString(haltedInStep).startsWith("align dual step 2/4"),
                    "an executor was halted in step 2");
            assertTrue(Files.readString(haltedInWrite).startsWith("writing write merged"),
                    "an executor was halted while writing the merged checkpoint: " + Files.readString(haltedInWrite));
            // The driver noticed each halted executor. (Whether it also logs the halted task as an
            // ExecutorLostFailure depends on a race in Spark's bookkeeping when the executor dies as the
            // task starts: once under full-suite load it did not; the markers above show the halts.)
            assertEquals(2, output.split("Lost executor ", -1).length - 1,
                    "the driver lost each executor once:\n" + tail(output));
            FileSystem fs = dfs.getFileSystem();
            assertTrue(fs.exists(new org.apache.hadoop.fs.Path(runs + "/" + run + "/_SUCCESS")));
            assertSameResult(runs + "/" + run);
        } finally {
            dfs.shutdown(true);
        }
    }

    @Test
    void aDriverKilledMidRunAndResubmittedWithResumeEndsAsAnUninterruptedRun() throws Exception {
        String run = "killed-driver";
        Path held = tmp.resolve("held");
        Path log = tmp.resolve("killed-driver.log");
        Process driver = ChildJvm.start("1g", Map.of("spark.master", "local[2]", "spark.ui.enabled", "false",
                        "lmc.test.hold-after-step", "3", "lmc.test.held-marker", held.toString()),
                Map.of(), log, HeldDriverMain.class.getName(), mergeArgs(run, out.toString()));
        try {
            Instant deadline = Instant.now().plus(Duration.ofMinutes(3));
            while (!Files.exists(held) && driver.isAlive() && Instant.now().isBefore(deadline)) {
                Thread.sleep(50);
            }
            assertTrue(Files.exists(held), "the driver reached step 3; its output:\n" + tail(readIfExists(log)));
        } finally {
            driver.destroyForcibly();
            assertTrue(driver.waitFor(60, TimeUnit.SECONDS), "the driver was killed");
        }
        assertEquals(137, driver.exitValue(), "killed by SIGKILL, not ended by itself");
        Path checkpoints = out.resolve("_checkpoints/" + run);
        assertTrue(Files.exists(checkpoints.resolve("dual-step-00000002.safetensors")), "step 2 was saved");
        assertFalse(Files.exists(checkpoints.resolve("dual-step-00000004.safetensors")), "step 4 was not reached");
        assertFalse(Files.exists(out.resolve(run)), "nothing published by the killed run");
        assertEquals(1, stagingAttempts(run), "the killed run left its staging folder behind");

        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int exit = Main.run(new PrintWriter(o, true), new PrintWriter(e, true),
                mergeArgs(run, out.toString(), "output.mode=resume").toArray(String[]::new));
        assertEquals(0, exit, o + "\n" + e);
        assertTrue(o.toString().contains("resuming after step 2"), o.toString());
        assertTrue(Files.exists(out.resolve(run + "/_SUCCESS")));
        assertEquals(0, stagingAttempts(run), "the stale staging folder was removed");
        assertFalse(Files.exists(checkpoints), "the training states are deleted once the run is complete");
        assertSameResult(out.resolve(run).toString());
        assertEquals(2, RunOutputs.resumedFrom(out.resolve(run).toString(), "dual"));
    }

    /**
     * The run at {@code got} (its folder) has the transforms, curves, step losses and merged
     * checkpoint of the uninterrupted run.
     */
    static void assertSameResult(String got) throws IOException {
        String ref = out.resolve("uninterrupted").toString();
        RunOutputs.assertSameTransforms(RunOutputs.transforms(SPARK, ref), RunOutputs.transforms(SPARK, got));
        RunOutputs.assertSameCurves(RunOutputs.curves(SPARK, ref), RunOutputs.curves(SPARK, got));
        double[] losses = RunOutputs.stepLosses(ref, "dual");
        assertEquals(4, losses.length);
        RunOutputs.assertSameLosses(losses, RunOutputs.stepLosses(got, "dual"));
        String merged = "/merged/" + MergedCheckpointJob.folderName(0.5);
        RunOutputs.assertSameMergedCheckpoint(SPARK, ref + merged, got + merged);
    }

    private static long stagingAttempts(String run) throws IOException {
        Path staging = out.resolve("_staging");
        if (!Files.exists(staging)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(staging)) {
            return s.filter(p -> p.getFileName().toString().startsWith(run + "-")).count();
        }
    }

    private static String readIfExists(Path log) throws IOException {
        return Files.exists(log) ? Files.readString(log) : "(no output)";
    }

    private static String tail(String output) {
        String[] lines = output.split("\n");
        return String.join("\n", Arrays.copyOfRange(lines, Math.max(0, lines.length - 60), lines.length));
    }
}
