package dev.lmcmerge.dist;

import dev.lmcmerge.align.AdamSchedule;
import dev.lmcmerge.align.AlphaLaw;
import dev.lmcmerge.config.AlignConfig;
import dev.lmcmerge.config.AlignConfig.Method;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.data.TokenDataset;
import ai.djl.ndarray.NDManager;
import dev.lmcmerge.align.LearnedMatching;
import dev.lmcmerge.symmetry.Transform;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.function.IntConsumer;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Learned matching, one-sided or dual, driven from the driver: one {@link GradientStepJob} per
 * step, Adam on the driver ({@link DriverAdam}), the state saved every
 * {@code align.checkpoint-every} steps so that {@code output.mode = resume} continues exactly.
 * Every random choice of step t (its alpha, its batch) is a function of (seed, t), so a resumed
 * run takes the same steps as an uninterrupted one.
 *
 * <p>As in align's single-process {@code Alignment}: model B's starting transform (weight or
 * activation matching, per {@code align.init}) is applied to its canonical weights first, and
 * both learned transforms start at the identity of those forms. What learns is align's choice
 * ({@link LearnedMatching#learnedSlotsA}, {@link LearnedMatching#learnedSlotsB}): one-sided,
 * every slot of B; dual, every slot of both, with the flat direction removed as
 * {@code align.dual-anchor} says ({@code residual-a}: A's residual rotation stays fixed;
 * {@code penalty}: {@value #PENALTY} x ||theta - theta_0||^2 per side). Parameters that do not
 * learn and the starting forms are broadcast once per run, the learned parameters with every step.
 */
public final class LearnedMatchingRun {
    /** Weight of the pull toward the starting point for {@code dual-anchor = penalty} (align's default). */
    static final double PENALTY = 1e-3;

    /** Test seam: called after each completed (and saved, when due) step; may throw to simulate a crash. */
    static volatile IntConsumer afterStep = t -> { };

    /**
     * The learned transforms.
     *
     * @param paramsA final parameters of A (slot name -> tensor)
     * @param paramsB final parameters of B
     * @param losses  the loss of every step 1..steps (including steps of an earlier attempt)
     * @param resumedFrom the step the run continued from (0: from the start)
     */
    public record Result(Map<String, FloatTensor> paramsA, Map<String, FloatTensor> paramsB, double[] losses,
                         int resumedFrom) {}

    private LearnedMatchingRun() {}

    /**
     * Runs (or resumes) the learned method {@code method}.
     *
     * @param identity    identity parameters of every slot of the run's groups (where both learned transforms start)
     * @param baseB       the chain of transforms B's learned transform applies on top of (its start, e.g. weight matching)
     * @param store       where states are saved
     * @param resume      true to continue from the newest saved state of this method, if any
     * @param fingerprint the configuration a saved state must match
     */
    public static Result run(JavaSparkContext sc, JobContext ctx, MergePlan plan, Method method,
                             Map<String, FloatTensor> identity, List<Map<String, FloatTensor>> baseB,
                             StepCheckpoints store, boolean resume, Map<String, String> fingerprint, PrintWriter out) {
        AlignConfig align = plan.job().align();
        String name = MethodNames.of(method);
        int steps = align.steps();
        Set<String> learnedA;
        Set<String> learnedB;
        try (NDManager m = NDManager.newBaseManager()) {
            Transform id = ExecutorModels.transform(ctx, plan.spec(), identity, m);
            LearnedMatching.Options o = options(method, align, plan.data().batchSize());
            learnedA = new LinkedHashSet<>(LearnedMatching.learnedSlotsA(id, o));
            learnedB = new LinkedHashSet<>(LearnedMatching.learnedSlotsB(id));
        }
        Map<String, FloatTensor> params = new LinkedHashMap<>();
        identity.forEach((k, v) -> params.put("a/" + k, v.copy()));
        identity.forEach((k, v) -> params.put("b/" + k, v.copy()));
        Map<String, FloatTensor> start = TransformParams.copy(params);
        DriverAdam adam = new DriverAdam(schedule(align));
        List<Double> losses = new ArrayList<>();
        int first = 0;
        if (resume) {
            Optional<TrainingState> saved = store.latest(name, fingerprint);
            if (saved.isPresent()) {
                TrainingState s = saved.get();
                if (!s.params().keySet().equals(params.keySet())) {
                    throw new IllegalStateException("saved state of " + name + " has parameters " + s.params().keySet()
                            + ", expected " + params.keySet());
                }
                params.clear();
                s.params().forEach((k, v) -> params.put(k, v.copy()));
                adam.restore(s.optimizer());
                for (double l : s.losses()) {
                    losses.add(l);
                }
                first = s.step();
                out.println("align " + name + ": resuming after step " + first + " from " + store.dir());
            }
        }
        AlphaLaw law = alphaLaw(align.alphaSampling());
        Map<String, FloatTensor> fixedA = side(params, "a/");
        Map<String, FloatTensor> fixedB = side(params, "b/");
        fixedA.keySet().removeAll(learnedA);
        fixedB.keySet().removeAll(learnedB);
        org.apache.spark.broadcast.Broadcast<GradientStepJob.Setup> fixed = sc.broadcast(new GradientStepJob.Setup(
                List.of(), baseB, new GradientStepJob.Params(TransformParams.copy(fixedA), TransformParams.copy(fixedB))));
        TokenDataset train = plan.data().train();
        StepProgress progress = new StepProgress(out, "align " + name, steps, first);
        try {
            steps(sc, ctx, plan, method, name, fixed, params, learnedA, learnedB, start, adam, losses, first, law, train,
                    progress, store, fingerprint);
        } finally {
            fixed.destroy();
        }
        return new Result(side(params, "a/"), side(params, "b/"), toArray(losses), first);
    }

    /** Steps {@code first + 1 .. align.steps}, updating {@code params}, {@code adam} and {@code losses} in place. */
    private static void steps(JavaSparkContext sc, JobContext ctx, MergePlan plan, Method method, String name,
                              org.apache.spark.broadcast.Broadcast<GradientStepJob.Setup> fixed,
                              Map<String, FloatTensor> params, Set<String> learnedA, Set<String> learnedB,
                              Map<String, FloatTensor> start, DriverAdam adam, List<Double> losses, int first,
                              AlphaLaw law, TokenDataset train, StepProgress progress, StepCheckpoints store,
                              Map<String, String> fingerprint) {
        AlignConfig align = plan.job().align();
        int steps = align.steps();
        for (int t = first + 1; t <= steps; t++) {
            double alpha = law.sample(new Random(mix(align.seed(), t, 0x5eed)));
            int batch = batchOfStep(train.numBatches(plan.data().batchSize()), align.seed(), t);
            int rows = train.batchRows(batch, plan.data().batchSize());
            long[] ids = train.batchIds(batch, plan.data().batchSize());
            List<GradientStepJob.Part> parts = GradientStepJob.split(ids, rows, train.seqLen(),
                    plan.data().stepPartitions());
            String desc = String.format(Locale.ROOT, "align %s step %d/%d, loss %s", name, t, steps,
                    losses.isEmpty() ? "-" : String.format(Locale.ROOT, "%.2f", losses.get(losses.size() - 1)));
            GradientStepJob.Result r = GradientStepJob.run(sc, ctx, fixed,
                    new GradientStepJob.Params(pick(params, "a/", learnedA), pick(params, "b/", learnedB)), alpha,
                    parts, desc);
            Map<String, FloatTensor> grads = new LinkedHashMap<>();
            r.gradA().forEach((k, v) -> grads.put("a/" + k, v));
            r.gradB().forEach((k, v) -> grads.put("b/" + k, v));
            double loss = r.loss();
            requireFinite(name, t, loss, grads);
            if (method == Method.DUAL && align.dualAnchor() == AlignConfig.DualAnchor.PENALTY) {
                loss += addPenalty(params, start, grads);
            }
            float lr = adam.step(t, params, grads);
            losses.add(loss);
            progress.step(t, loss, lr);
            if (align.checkpointEvery() > 0 && t % align.checkpointEvery() == 0 || t == steps) {
                store.save(new TrainingState(name, t, params, adam.state(), toArray(losses), fingerprint));
            }
            afterStep.accept(t);
        }
    }

    /** The entries of {@code params} under {@code prefix} whose slot is in {@code slots}, prefix removed. */
    private static Map<String, FloatTensor> pick(Map<String, FloatTensor> params, String prefix, Set<String> slots) {
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        for (String s : slots) {
            out.put(s, params.get(prefix + s));
        }
        return out;
    }

    /** A non-finite loss or gradient would poison every later step: stop with the slot named. */
    static void requireFinite(String method, int t, double loss, Map<String, FloatTensor> grads) {
        if (!Double.isFinite(loss)) {
            throw new LmcException(ExitCode.FAILURE, "align " + method
                    + " step " + t + ": the loss is " + loss + "; lower lmc.align.lr or check the data");
        }
        for (Map.Entry<String, FloatTensor> e : grads.entrySet()) {
            for (float v : e.getValue().values()) {
                if (!Float.isFinite(v)) {
                    throw new LmcException(ExitCode.FAILURE, "align " + method
                            + " step " + t + ": the gradient of " + e.getKey() + " holds " + v
                            + "; lower lmc.align.lr or leave that symmetry out of lmc.align.symmetries");
                }
            }
        }
    }

    /** align's options for the method (only its mode and anchor decide which slots learn). */
    static LearnedMatching.Options options(Method method, AlignConfig align, int batchSize) {
        LearnedMatching.Mode mode = method == Method.DUAL ? LearnedMatching.Mode.DUAL : LearnedMatching.Mode.ONE_SIDED;
        LearnedMatching.Anchor anchor = align.dualAnchor() == AlignConfig.DualAnchor.PENALTY
                ? LearnedMatching.Anchor.PENALTY : LearnedMatching.Anchor.RESIDUAL_A;
        return LearnedMatching.Options.defaults(mode, Math.max(1, align.steps()), align.lr(), batchSize, align.seed())
                .withAnchor(anchor, PENALTY);
    }

    /** Adds the penalty's gradient into {@code grads} and returns its value. */
    private static double addPenalty(Map<String, FloatTensor> params, Map<String, FloatTensor> start,
                                     Map<String, FloatTensor> grads) {
        double value = 0;
        for (Map.Entry<String, FloatTensor> e : grads.entrySet()) {
            float[] p = params.get(e.getKey()).values();
            float[] p0 = start.get(e.getKey()).values();
            float[] g = e.getValue().values();
            for (int i = 0; i < g.length; i++) {
                double d = p[i] - p0[i];
                value += PENALTY * d * d;
                g[i] += (float) (2 * PENALTY * d);
            }
        }
        return value;
    }

    /** The batch index of step {@code t}: each epoch visits every batch once, in an order fixed by (seed, epoch). */
    static int batchOfStep(int batches, long seed, int t) {
        int epoch = (t - 1) / batches;
        int k = (t - 1) % batches;
        int[] order = new int[batches];
        for (int i = 0; i < batches; i++) {
            order[i] = i;
        }
        Random rng = new Random(mix(seed, epoch, 0xba7c4));
        for (int i = batches - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
        return order[k];
    }

    static long mix(long seed, long a, long salt) {
        long z = seed * 0x9E3779B97F4A7C15L + a * 0xBF58476D1CE4E5B9L + salt;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static AdamSchedule schedule(AlignConfig align) {
        int steps = Math.max(1, align.steps());
        int warmup = Math.min(align.effectiveWarmup(), steps - 1);
        AdamSchedule.Shape shape = AdamSchedule.Shape.valueOf(align.schedule().name());
        return new AdamSchedule(align.lr(), steps, warmup, shape, 0.0);
    }

    static AlphaLaw alphaLaw(AlignConfig.AlphaSampling s) {
        return switch (s) {
            case UNIFORM -> AlphaLaw.uniform();
            case NARROW -> AlphaLaw.narrow();
            case FIXED -> AlphaLaw.fixed(0.5);
        };
    }

    private static Map<String, FloatTensor> side(Map<String, FloatTensor> params, String prefix) {
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        params.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }

    private static double[] toArray(List<Double> l) {
        double[] a = new double[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = l.get(i);
        }
        return a;
    }
}
