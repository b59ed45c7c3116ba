package dev.lmcmerge.dist;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.align.InterpolationPath;
import dev.lmcmerge.model.Losses;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.Transform;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;

/**
 * One learned-matching step as a Spark job (DESIGN.md section 1, step 4): the driver broadcasts
 * both models' current transform parameters; each task computes, on its part of the step's
 * batch, the loss and the gradients of the learned parameters with align's layer-block streaming
 * ({@link InterpolationPath#streamingGradients}) from the canonical weights in its executor's
 * cache; {@code treeAggregate} adds up the token-weighted sums; the driver divides by the token
 * count. The result is the gradient of the mean loss over the whole batch, independent of how
 * the batch is partitioned (up to float rounding).
 */
public final class GradientStepJob {
    private GradientStepJob() {}

    /** Transform parameters of both models (slot name -> tensor per side). */
    public record Params(Map<String, FloatTensor> a, Map<String, FloatTensor> b) implements Serializable {
        /** These parameters with {@code over}'s entries replacing or adding to them. */
        Params with(Params over) {
            Map<String, FloatTensor> na = new LinkedHashMap<>(a);
            na.putAll(over.a);
            Map<String, FloatTensor> nb = new LinkedHashMap<>(b);
            nb.putAll(over.b);
            return new Params(na, nb);
        }
    }

    /**
     * What stays fixed during one learned run, broadcast once: the forms the learned transforms
     * start from (each side's canonical form under a chain of earlier transforms, e.g. weight
     * matching) and the parameters of slots that do not learn.
     */
    public record Setup(List<Map<String, FloatTensor>> baseA, List<Map<String, FloatTensor>> baseB, Params fixed)
            implements Serializable {}

    /** A task's sequences: row-major ids of {@code rows} sequences of {@code seqLen} tokens. */
    public record Part(long[] ids, int rows, int seqLen) implements Serializable {}

    /** Token-weighted sums (loss x predictions, gradient x predictions) of some parts. */
    public record Sums(double lossSum, long predictions, Map<String, FloatTensor> gradA,
                       Map<String, FloatTensor> gradB) implements Serializable {
        static Sums zero() {
            return new Sums(0, 0, new LinkedHashMap<>(), new LinkedHashMap<>());
        }

        Sums plus(Sums o) {
            return new Sums(lossSum + o.lossSum, predictions + o.predictions, add(gradA, o.gradA), add(gradB, o.gradB));
        }

        private static Map<String, FloatTensor> add(Map<String, FloatTensor> x, Map<String, FloatTensor> y) {
            if (x.isEmpty()) {
                return y;
            }
            if (y.isEmpty()) {
                return x;
            }
            Map<String, FloatTensor> out = new LinkedHashMap<>();
            x.forEach((k, v) -> out.put(k, v.copy().addInPlace(y.get(k))));
            return out;
        }
    }

    /** The step's result: mean loss and mean-loss gradients of each side's learned parameters. */
    public record Result(double loss, long predictions, Map<String, FloatTensor> gradA, Map<String, FloatTensor> gradB) {}

    /**
     * Runs one step.
     *
     * @param setup    what does not change during learning, broadcast once per learned run
     * @param learned  the current values of the learned parameters (broadcast with this step)
     * @param description the Spark job description, e.g. {@code align dual step 17/200, loss 3.41}
     */
    public static Result run(JavaSparkContext sc, JobContext ctx, Broadcast<Setup> setup, Params learned,
                             double alpha, List<Part> parts, String description) {
        sc.setJobDescription(description);
        Broadcast<Params> bc = sc.broadcast(learned);
        try {
            Sums s = sc.parallelize(parts, parts.size()).treeAggregate(Sums.zero(),
                    new SeqOp(ctx, setup, bc, alpha),
                    (Function2<Sums, Sums, Sums>) Sums::plus, 2);
            float inv = 1f / s.predictions();
            Map<String, FloatTensor> ga = new LinkedHashMap<>();
            Map<String, FloatTensor> gb = new LinkedHashMap<>();
            s.gradA().forEach((k, v) -> ga.put(k, v.copy().scaleInPlace(inv)));
            s.gradB().forEach((k, v) -> gb.put(k, v.copy().scaleInPlace(inv)));
            return new Result(s.lossSum() / s.predictions(), s.predictions(), ga, gb);
        } finally {
            bc.destroy();
        }
    }

    /** Cuts the step's sequences (row-major ids of {@code rows} x {@code seqLen}) into {@code n} parts. */
    public static List<Part> split(long[] ids, int rows, int seqLen, int n) {
        List<Part> out = new ArrayList<>();
        for (int[] r : DataPlan.ranges(rows, n)) {
            long[] part = java.util.Arrays.copyOfRange(ids, r[0] * seqLen, r[1] * seqLen);
            out.add(new Part(part, r[1] - r[0], seqLen));
        }
        return out;
    }

    static final class SeqOp implements Function2<Sums, Part, Sums> {
        private final JobContext ctx;
        private final Broadcast<Setup> setup;
        private final Broadcast<Params> learned;
        private final double alpha;

        SeqOp(JobContext ctx, Broadcast<Setup> setup, Broadcast<Params> learned, double alpha) {
            this.ctx = ctx;
            this.setup = setup;
            this.learned = learned;
            this.alpha = alpha;
        }

        @Override
        public Sums call(Sums acc, Part part) {
            FaultInjection.check("gradient");
            Setup su = setup.value();
            Params l = learned.value();
            return acc.plus(compute(ctx, su.baseA(), su.baseB(), su.fixed().with(l), l.a().keySet(), l.b().keySet(),
                    alpha, part));
        }
    }

    /**
     * The token-weighted loss and gradients of one part (executor side; also the single-process
     * reference in tests).
     *
     * @param baseA    the chain of transforms under A's learned transform (empty: the canonical form)
     * @param baseB    the chain under B's learned transform
     * @param p        every active slot's parameters of both learned transforms
     * @param learnedA slots of A whose gradients are wanted
     * @param learnedB slots of B whose gradients are wanted
     */
    static Sums compute(JobContext ctx, List<Map<String, FloatTensor>> baseA, List<Map<String, FloatTensor>> baseB,
                        Params p, Set<String> learnedA, Set<String> learnedB, double alpha, Part part) {
        try (TaskScope ts = TaskScope.open(ctx);
             ExecutorModelCache.Lease la = ExecutorModels.form(ctx, "a", baseA, ts.manager());
             ExecutorModelCache.Lease lb = ExecutorModels.form(ctx, "b", baseB, ts.manager())) {
            NDManager m = ts.manager();
            ExecutorModels.Info info = ExecutorModels.info(ctx, "a");
            Weights ca = la.view(m);
            Weights cb = lb.view(m);
            Transform ta = ExecutorModels.transform(ctx, info, p.a(), m);
            Transform tb = ExecutorModels.transform(ctx, info, p.b(), m);
            try (InterpolationPath path = new InterpolationPath(info.spec(), info.architecture(), ca, cb, ta, tb,
                    new LinkedHashSet<>(learnedA), new LinkedHashSet<>(learnedB))) {
                NDArray ids = m.create(part.ids(), new Shape(part.rows(), part.seqLen()));
                long n = Losses.predictedTokens(ids);
                try (InterpolationPath.Gradients g = path.gradients(ids, alpha, ctx.stepGraphMemory())) {
                    return new Sums(g.loss() * n, n, weighted(g.a(), n), weighted(g.b(), n));
                }
            }
        }
    }

    private static Map<String, FloatTensor> weighted(Map<String, NDArray> grads, long n) {
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : grads.entrySet()) {
            NDArray g = e.getValue().toType(DataType.FLOAT32, false);
            out.put(e.getKey(), new FloatTensor(g.getShape().getShape(), g.toFloatArray()).scaleInPlace(n));
        }
        return out;
    }
}
