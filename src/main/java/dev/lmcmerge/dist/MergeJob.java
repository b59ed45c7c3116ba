package dev.lmcmerge.dist;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lmcmerge.config.AlignConfig;
import dev.lmcmerge.config.AlignConfig.Method;
import dev.lmcmerge.config.JobConfig;
import dev.lmcmerge.config.OutputConfig;
import dev.lmcmerge.data.TokenDataset;
import dev.lmcmerge.eval.Barrier;
import dev.lmcmerge.eval.Report;
import dev.lmcmerge.io.FileSystems;
import dev.lmcmerge.symmetry.Transform;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * The merge job (DESIGN.md section 1), the same code under {@code bin/lmc merge} (local Spark)
 * and {@code spark-submit}: plan on the driver from headers; self-check the canonical and
 * initial transformed forms on the executors; weight matching; learned matching (one-sided,
 * dual) step by step; barrier curves of every method; then the outputs of section 7 written
 * into a staging folder and published with {@code _SUCCESS} last.
 */
public final class MergeJob {
    private MergeJob() {}

    /** What a finished run produced (also when {@code resume} found it complete: then only the ids). */
    public record Outcome(String runId, Path folder, boolean alreadyComplete, List<EvaluationJob.Curve> curves,
                          String mergedMethod) {}

    /**
     * Checks the keys every run needs, so that a missing one is reported before Spark starts.
     *
     * @throws dev.lmcmerge.config.LmcException USAGE naming the first missing key
     */
    public static void requireKeys(JobConfig job) {
        JobConfig.require(job.modelA(), "lmc.model-a");
        JobConfig.require(job.modelB(), "lmc.model-b");
        JobConfig.require(job.data().eval(), "lmc.data.eval");
        JobConfig.require(job.output().path(), "lmc.output.path");
    }

    /** Runs the job with the active (or a new local) Spark session. */
    public static Outcome run(JobConfig job, PrintWriter out) {
        return run(SparkSessions.getOrCreate("lmc-merge"), job, out);
    }

    /** Runs the job on {@code spark}. */
    public static Outcome run(SparkSession spark, JobConfig job, PrintWriter out) {
        Instant started = Instant.now();
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        // Spark's own writers (the Parquet tables) and the driver's file operations see the store settings.
        job.hadoopProperties().forEach(sc.hadoopConfiguration()::set);
        Configuration conf = new Configuration(sc.hadoopConfiguration());
        RunRecord record0 = new RunRecord("-", started);
        MergePlan plan = record0.phase("plan", () -> DriverPlanner.plan(job, conf, sc.defaultParallelism()));
        plan.log(out);
        String runId = RunIds.resolve(job.output().runId(), started);
        RunLayout layout = RunLayout.of(FileSystems.resolve(job.output().path().orElseThrow()), runId);
        RunCommitter committer = RunCommitter.begin(layout, job.output().mode(), conf);
        if (committer.alreadyComplete()) {
            out.println("run " + runId + " is already complete at " + layout.finalDir()
                    + " (output.mode = resume): nothing to do");
            out.flush();
            return new Outcome(runId, layout.finalDir(), true, List.of(), null);
        }
        out.println("run " + runId + ": writing to " + layout.stagingDir() + ", published at " + layout.finalDir());
        out.flush();
        RunRecord record = new RunRecord(runId, started);
        record.timings().putAll(record0.timings());
        TaskProgress progress = new TaskProgress(out);
        sc.sc().addSparkListener(progress);
        try {
            Outcome o = execute(sc, spark, plan, layout, committer, record, conf, out);
            committer.commit();
            out.println("run " + runId + " complete: " + layout.finalDir());
            out.flush();
            return o;
        } catch (Throwable e) {
            // Also Spark's job failures: SparkException is a checked exception Scala throws undeclared.
            committer.abort();
            throw e;
        } finally {
            sc.sc().removeSparkListener(progress);
        }
    }

    private static Outcome execute(JavaSparkContext sc, SparkSession spark, MergePlan plan, RunLayout layout,
                                   RunCommitter committer, RunRecord record, Configuration conf, PrintWriter out) {
        JobConfig job = plan.job();
        AlignConfig align = job.align();
        JobContext first = JobContext.of(plan, layout.runId() + "-" + layout.attempt(), sc.getConf());
        String runId = layout.runId();
        boolean resume = job.output().mode() == OutputConfig.Mode.RESUME;
        long[] checkTokens = checkTokens(plan.data().eval(), job.check().tokens());

        // 1. Self-check of the canonical forms (each executor reads and canonicalizes its models here).
        //    The stored models' logits are kept, so later checks need not hold the stored weights.
        Map<String, FloatTensor> storedLogits = new LinkedHashMap<>();
        record.phase("self-check", () -> {
            List<ExactnessJob.Outcome> o = ExactnessJob.run(sc, first, List.of(
                    new ExactnessJob.Item("a", "canonical form", List.of()),
                    new ExactnessJob.Item("b", "canonical form", List.of())), checkTokens, job.check().tolerance());
            o.forEach(x -> storedLogits.put(x.side(), x.storedLogits()));
            reportChecks(out, o);
        });

        // The held-out tokens every evaluation task reads.
        TokenDataset eval = plan.data().eval();
        int evalSeqs = plan.data().evalSequences();
        int[] evalTokens = new int[evalSeqs * eval.seqLen()];
        for (int i = 0; i < evalSeqs; i++) {
            long[] row = eval.row(i);
            for (int t = 0; t < row.length; t++) {
                evalTokens[i * eval.seqLen() + t] = (int) row[t];
            }
        }
        Broadcast<EvaluationJob.EvalTokens> tokens = sc.broadcast(
                new EvaluationJob.EvalTokens(evalTokens, eval.seqLen(), plan.data().batchSize()));

        // The naive curve is the only other use of the stored forms: evaluated now, after which
        // the executors drop the stored forms (JobContext.Forms) and hold canonical ones only.
        Map<String, EvaluationJob.Curve> early = new LinkedHashMap<>();
        if (plan.methods().contains(Method.NAIVE)) {
            Endpoints naive = Endpoints.stored();
            early.put(naive.method(), record.phase("evaluate " + naive.method(),
                    () -> EvaluationJob.run(sc, first, naive, plan.alphas(), plan.data(), tokens)));
        }
        JobContext ctx = first.needing(JobContext.Forms.NOT_STORED);

        // 2. Matching: weight matching (no data) and activation matching, when a method or the
        //    learned methods' starting point needs them; each checked before it is used.
        boolean learns = plan.learns();
        Map<String, FloatTensor> matchedB = null;
        if (plan.methods().contains(Method.WEIGHT_MATCHING) || learns && align.init() == AlignConfig.Init.WEIGHT_MATCHING) {
            WeightMatchingJob.Result wm = record.phase("weight-matching",
                    () -> WeightMatchingJob.run(sc, ctx, align.weightMatchingIterations()));
            out.printf(Locale.ROOT, "weight matching: ||B - A||^2 %.4g -> %.4g in %d round%s%n", wm.distanceBefore(),
                    wm.distanceAfter(), wm.rounds(), wm.rounds() == 1 ? "" : "s");
            ObjectNode f = record.facts().putObject("weight_matching");
            f.put("distance_before", wm.distanceBefore());
            f.put("distance_after", wm.distanceAfter());
            f.put("rounds", wm.rounds());
            matchedB = wm.paramsB();
            check(sc, ctx, record, out, job, checkTokens, storedLogits.get("b"), "weight-matching transform", matchedB);
        }
        Map<String, FloatTensor> activationB = null;
        if (plan.methods().contains(Method.ACTIVATION_MATCHING)
                || learns && align.init() == AlignConfig.Init.ACTIVATION_MATCHING) {
            activationB = record.phase("activation-matching",
                    () -> ActivationMatchingJob.run(sc, ctx, plan.data().train(), plan.data().batchSize()));
            out.println("activation matching: done on " + Math.min(ActivationMatchingJob.BATCHES,
                    plan.data().train().numBatches(plan.data().batchSize())) + " training batches");
            check(sc, ctx, record, out, job, checkTokens, storedLogits.get("b"), "activation-matching transform", activationB);
        }

        // 3. The methods' endpoints; learned matching starts from B's matched form.
        Map<Method, Endpoints> ends = new LinkedHashMap<>();
        StepCheckpoints store = new StepCheckpoints(layout.checkpointDir(), conf);
        for (Method m : plan.methods()) {
            String name = MethodNames.of(m);
            switch (m) {
                case NAIVE -> ends.put(m, Endpoints.stored());
                case WEIGHT_MATCHING -> ends.put(m, Endpoints.matched(name, matchedB));
                case ACTIVATION_MATCHING -> ends.put(m, Endpoints.matched(name, activationB));
                case ONE_SIDED, DUAL -> {
                    List<Map<String, FloatTensor>> baseB = switch (align.init()) {
                        case WEIGHT_MATCHING -> List.of(matchedB);
                        case ACTIVATION_MATCHING -> List.of(activationB);
                        case IDENTITY -> List.of();
                    };
                    Map<String, FloatTensor> identity = identityParams(plan, ctx);
                    LearnedMatchingRun.Result r = record.phase("learn " + name, () -> LearnedMatchingRun.run(sc, ctx,
                            plan, m, identity, baseB, store, resume, Fingerprint.of(job), out));
                    record.stepLosses(name, r.losses(), r.resumedFrom());
                    List<Map<String, FloatTensor>> chainB = new ArrayList<>(baseB);
                    chainB.add(r.paramsB());
                    Endpoints e = new Endpoints(name, false, m == Method.DUAL ? List.of(r.paramsA()) : List.of(),
                            chainB);
                    record.phase("self-check", () -> reportChecks(out, ExactnessJob.run(sc, ctx, List.of(
                            new ExactnessJob.Item("a", name + " transform", e.chainA(), storedLogits.get("a")),
                            new ExactnessJob.Item("b", name + " transform", e.chainB(), storedLogits.get("b"))),
                            checkTokens, job.check().tolerance())));
                    ends.put(m, e);
                }
            }
        }

        // 4. Barrier curves on the held-out split (the naive one was evaluated first). From here on
        //    every form is made part by part from the canonical ones: executors drop learning's
        //    starting forms (a whole model each, 3.8 GiB at 1B).
        JobContext canonicalOnly = ctx.needing(JobContext.Forms.CANONICAL);
        List<EvaluationJob.Curve> curves = new ArrayList<>();
        for (Endpoints e : ends.values()) {
            EvaluationJob.Curve done = early.get(e.method());
            curves.add(done != null ? done : record.phase("evaluate " + e.method(),
                    () -> EvaluationJob.run(sc, canonicalOnly, e, plan.alphas(), plan.data(), tokens)));
        }
        tokens.destroy();
        printBarriers(out, curves);

        // 5. Outputs, into the staging folder.
        String mergedMethod = bestMethod(curves);
        record.facts().put("merged_method", mergedMethod);
        List<Endpoints> tableEnds = new ArrayList<>(ends.values());
        if (matchedB != null && !ends.containsKey(Method.WEIGHT_MATCHING)) {
            tableEnds.add(Endpoints.matched(MethodNames.of(Method.WEIGHT_MATCHING), matchedB));
        }
        if (activationB != null && !ends.containsKey(Method.ACTIVATION_MATCHING)) {
            tableEnds.add(Endpoints.matched(MethodNames.of(Method.ACTIVATION_MATCHING), activationB));
        }
        record.phase("write tables", () -> writeTables(spark, runId, curves, tableEnds, committer));
        List<MergedCheckpointJob.Result> merged = record.phase("write merged checkpoints",
                () -> writeMerged(sc, canonicalOnly, plan, ends, mergedMethod, committer, conf));
        for (MergedCheckpointJob.Result r : merged) {
            out.printf(Locale.ROOT, "merged %s at alpha %s: %s%n", r.method(), r.alpha(), layout.published(r.folder()));
        }
        record.phase("write report", () -> writeReport(plan, runId, curves, mergedMethod, record, committer, conf));
        writeText(committer.staged("run.json"), record.toJson(job, Instant.now()), conf);
        return new Outcome(runId, layout.finalDir(), false, curves, mergedMethod);
    }

    /** Runs the self-check of model B transformed by {@code params}. */
    private static void check(JavaSparkContext sc, JobContext ctx, RunRecord record, PrintWriter out, JobConfig job,
                              long[] tokens, FloatTensor storedLogitsB, String label, Map<String, FloatTensor> params) {
        record.phase("self-check", () -> reportChecks(out, ExactnessJob.run(sc, ctx, List.of(
                new ExactnessJob.Item("b", label, List.of(params), storedLogitsB)), tokens, job.check().tolerance())));
    }

    /** Identity parameters of every learned slot (where learning starts; made on the driver). */
    private static Map<String, FloatTensor> identityParams(MergePlan plan, JobContext ctx) {
        try (NDManager m = NDManager.newBaseManager()) {
            return TransformParams.of(Transform.identity(plan.spec(), plan.learnedGroups(), m));
        }
    }

    /** The first tokens of the first held-out sequence, for the self-check. */
    static long[] checkTokens(TokenDataset eval, int tokens) {
        long[] row = eval.row(0);
        return java.util.Arrays.copyOf(row, Math.min(tokens, row.length));
    }

    private static void reportChecks(PrintWriter out, List<ExactnessJob.Outcome> outcomes) {
        for (ExactnessJob.Outcome o : outcomes) {
            out.printf(Locale.ROOT, "self-check: model %s %s preserves the function (max |logit difference| %.2e)%n",
                    o.side().toUpperCase(Locale.ROOT), o.label(), o.maxDifference());
        }
        out.flush();
    }

    /** The method whose curve has the lowest barrier (the later one on ties: methods are listed simplest first). */
    static String bestMethod(List<EvaluationJob.Curve> curves) {
        EvaluationJob.Curve best = null;
        for (EvaluationJob.Curve c : curves) {
            if (best == null || c.barrier().barrier() <= best.barrier().barrier()) {
                best = c;
            }
        }
        return best == null ? null : best.method();
    }

    /** The barrier table, one line per method. */
    static void printBarriers(PrintWriter out, List<EvaluationJob.Curve> curves) {
        out.println();
        out.printf(Locale.ROOT, "%-20s %10s %12s %9s %10s %10s%n", "method", "barrier", "barrier_rel", "at alpha",
                "loss A", "loss B");
        for (EvaluationJob.Curve c : curves) {
            Barrier b = c.barrier();
            out.printf(Locale.ROOT, "%-20s %10.4f %11.2f%% %9.2f %10.4f %10.4f%n", c.method(), b.barrier(),
                    100 * b.barrierRel(), b.argmaxAlpha(), b.lossA(), b.lossB());
        }
        out.println();
        out.flush();
    }

    private static void writeTables(SparkSession spark, String runId, List<EvaluationJob.Curve> curves,
                                    List<Endpoints> ends, RunCommitter committer) {
        ResultTables tables = new ResultTables(spark);
        List<ResultRows.Curve> c = new ArrayList<>();
        List<ResultRows.Barrier> b = new ArrayList<>();
        for (EvaluationJob.Curve curve : curves) {
            for (EvaluationJob.Point p : curve.points()) {
                c.add(new ResultRows.Curve(runId, curve.method(), p.alpha(), "eval", p.loss(), Math.exp(p.loss()), null,
                        p.examples(), p.tokens()));
            }
            Barrier x = curve.barrier();
            b.add(new ResultRows.Barrier(runId, curve.method(), x.barrier(), x.barrierRel(), x.argmaxAlpha(), x.lossA(),
                    x.lossB()));
        }
        tables.writeCurves(c, committer.staged("curves"));
        tables.writeBarriers(b, committer.staged("barriers"));
        List<ResultRows.Transform> t = new ArrayList<>();
        for (Endpoints e : ends) {
            if (e.naive()) {
                continue;
            }
            for (String side : List.of("a", "b")) {
                Map<String, FloatTensor> params = e.own(side);
                for (Map.Entry<String, FloatTensor> p : params.entrySet()) {
                    t.add(new ResultRows.Transform(runId, e.method(), side, p.getKey(), layerOf(p.getKey()),
                            kindOf(p.getKey()), p.getValue().intShape(), p.getValue().values()));
                }
            }
        }
        if (!t.isEmpty()) {
            tables.writeTransforms(t, committer.staged("transforms"));
        }
    }

    /** The layer of a slot name ({@code qk.3} -> 3, {@code residual} -> -1). */
    static int layerOf(String slot) {
        int dot = slot.lastIndexOf('.');
        return dot < 0 ? -1 : Integer.parseInt(slot.substring(dot + 1));
    }

    /** The kind of a slot name ({@code heads_in_group.2} -> {@code heads_in_group}). */
    static String kindOf(String slot) {
        for (dev.lmcmerge.symmetry.SlotKind k : dev.lmcmerge.symmetry.SlotKind.values()) {
            if (dev.lmcmerge.symmetry.Slot.nameOf(k, layerOf(slot)).equals(slot)) {
                return k.name().toLowerCase(Locale.ROOT);
            }
        }
        return "unknown";
    }

    private static List<MergedCheckpointJob.Result> writeMerged(JavaSparkContext sc, JobContext ctx, MergePlan plan,
                                                                Map<Method, Endpoints> ends, String method,
                                                                RunCommitter committer, Configuration conf) {
        List<MergedCheckpointJob.Result> out = new ArrayList<>();
        OutputConfig o = plan.job().output();
        if (o.mergedAlphas().isEmpty() || method == null) {
            return out;
        }
        Endpoints chosen = ends.values().stream().filter(e -> e.method().equals(method)).findFirst().orElseThrow();
        List<Path> tokenizer = plan.modelA().tokenizerFiles().stream().map(Path::new).toList();
        for (double alpha : o.mergedAlphas()) {
            Path folder = committer.staged("merged/" + MergedCheckpointJob.folderName(alpha));
            out.add(MergedCheckpointJob.run(sc, ctx, plan, chosen, alpha, folder,
                    o.formats().contains(OutputConfig.Format.HF), o.formats().contains(OutputConfig.Format.PARQUET),
                    sc.defaultParallelism(), conf, tokenizer, (ObjectNode) plan.modelA().rawConfig()));
        }
        return out;
    }

    private static void writeReport(MergePlan plan, String runId, List<EvaluationJob.Curve> curves, String merged,
                                    RunRecord record, RunCommitter committer, Configuration conf) {
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("run id", runId);
        facts.put("model A", plan.modelA().location() + " (" + plan.modelA().describe() + ")");
        facts.put("model B", plan.modelB().location());
        facts.put("held-out data", plan.data().evalSequences() + " sequences x " + plan.data().eval().seqLen()
                + " tokens from " + plan.data().evalSource());
        if (plan.learns()) {
            facts.put("training data", plan.data().train().size() + " sequences from " + plan.data().trainSource());
            facts.put("learned steps", plan.job().align().steps() + " (lr " + plan.job().align().lr() + ", alpha "
                    + plan.job().align().alphaSampling().name().toLowerCase(Locale.ROOT) + ")");
        }
        facts.put("symmetries", String.join(", ", plan.job().align().symmetries().stream()
                .map(s -> s.name().toLowerCase(Locale.ROOT)).toList()));
        facts.put("learned symmetries", String.join(", ", plan.job().align().learnedSymmetries().stream()
                .map(s -> s.name().toLowerCase(Locale.ROOT)).toList()));
        facts.put("merged checkpoints", merged == null || plan.job().output().mergedAlphas().isEmpty() ? "none"
                : merged + " at alpha " + plan.job().output().mergedAlphas());
        record.timings().forEach((k, v) -> facts.put("time: " + k, String.format(Locale.ROOT, "%.1f s", v)));
        List<Report.Curve> rc = new ArrayList<>();
        Map<String, Barrier> barriers = new LinkedHashMap<>();
        for (EvaluationJob.Curve c : curves) {
            rc.add(new Report.Curve(c.method(), c.alphas(), c.losses()));
            barriers.put(c.method(), c.barrier());
        }
        Report report = new Report("lmc-merge run " + runId, facts, rc, barriers);
        writeText(committer.staged("report.html"), report.toHtml(), conf);
    }

    private static void writeText(Path file, String text, Configuration conf) {
        FileSystem fs = FileSystems.fs(file, conf);
        try (OutputStream o = fs.create(file, true)) {
            o.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw FileSystems.ioError(file.toString(), "cannot write", e);
        }
    }
}
