package dev.lmcmerge.dist;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.eval.Barrier;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Losses;
import dev.lmcmerge.model.PartwiseForward;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;

/**
 * Barrier evaluation (DESIGN.md section 1, step 5): for one method, the held-out loss of the
 * merged model at every alpha of the grid, as one Spark job with a task per (alpha, data
 * partition). Each task takes both endpoints' base forms from the executor cache and runs its
 * sequences through the merged model made part by part ({@link PathParts}); the driver adds up the loss sums and prediction counts, so the
 * curve is the exact mean over the held-out tokens whatever the partitioning.
 */
public final class EvaluationJob {
    private EvaluationJob() {}

    /** The held-out tokens every evaluation task reads from (broadcast once per run). */
    public record EvalTokens(int[] tokens, int seqLen, int batchSize) implements Serializable {
        int sequences() {
            return tokens.length / seqLen;
        }
    }

    /** One task: the method's endpoints at one alpha on sequences [from, to). */
    record Part(int alphaIndex, double alpha, int from, int to) implements Serializable {}

    /** What a task returns. */
    record PartResult(int alphaIndex, double lossSum, long predictions, long examples, long tokens)
            implements Serializable {}

    /** One point of a method's curve. */
    public record Point(double alpha, double loss, long examples, long tokens, long predictions) implements Serializable {}

    /** A method's curve and barrier. */
    public record Curve(String method, List<Point> points, Barrier barrier) {
        /** Alphas of the points. */
        public double[] alphas() {
            return points.stream().mapToDouble(Point::alpha).toArray();
        }

        /** Losses of the points. */
        public double[] losses() {
            return points.stream().mapToDouble(Point::loss).toArray();
        }
    }

    /** Runs the evaluation of one method on the driver's Spark context. */
    public static Curve run(JavaSparkContext sc, JobContext ctx, Endpoints ends, double[] alphas, DataPlan data,
                            Broadcast<EvalTokens> tokens) {
        List<Part> parts = new ArrayList<>();
        List<int[]> ranges = data.evalRanges();
        for (int i = 0; i < alphas.length; i++) {
            for (int[] r : ranges) {
                parts.add(new Part(i, alphas[i], r[0], r[1]));
            }
        }
        sc.setJobDescription(String.format(Locale.ROOT, "evaluate %s: %d alphas x %d partitions", ends.method(),
                alphas.length, ranges.size()));
        // The endpoints' parameters (permutation latents included) travel once per executor, not with every task.
        Broadcast<Endpoints> bends = sc.broadcast(ends);
        List<PartResult> results;
        try {
            results = sc.parallelize(parts, parts.size()).map(new Task(ctx, bends, tokens)).collect();
        } finally {
            bends.destroy();
        }
        double[] sums = new double[alphas.length];
        long[] preds = new long[alphas.length];
        long[] ex = new long[alphas.length];
        long[] tok = new long[alphas.length];
        for (PartResult r : results) {
            sums[r.alphaIndex()] += r.lossSum();
            preds[r.alphaIndex()] += r.predictions();
            ex[r.alphaIndex()] += r.examples();
            tok[r.alphaIndex()] += r.tokens();
        }
        List<Point> points = new ArrayList<>();
        double[] losses = new double[alphas.length];
        for (int i = 0; i < alphas.length; i++) {
            losses[i] = sums[i] / preds[i];
            points.add(new Point(alphas[i], losses[i], ex[i], tok[i], preds[i]));
        }
        return new Curve(ends.method(), points, Barrier.of(alphas, losses));
    }

    /** The task function. */
    static final class Task implements Function<Part, PartResult> {
        private final JobContext ctx;
        private final Broadcast<Endpoints> ends;
        private final Broadcast<EvalTokens> tokens;

        Task(JobContext ctx, Broadcast<Endpoints> ends, Broadcast<EvalTokens> tokens) {
            this.ctx = ctx;
            this.ends = ends;
            this.tokens = tokens;
        }

        @Override
        public PartResult call(Part p) {
            FaultInjection.check("evaluate");
            EvalTokens t = tokens.value();
            try (TaskScope ts = TaskScope.open(ctx); PathParts path = new PathParts(ctx, ends.value(), ts.manager())) {
                return evaluate(path, p, t, ts.manager());
            }
        }
    }

    /** Hidden states kept per evaluation chunk (all its sequences pass each part together). */
    static final long HIDDEN_BUDGET_BYTES = 256L << 20;

    /**
     * Loss sum and counts of the merged model at {@code p.alpha()} over sequences [from, to). The
     * merged weights are made part by part ({@link PartwiseForward}): once per chunk of sequences
     * whose hidden states fit {@link #HIDDEN_BUDGET_BYTES}, never as a whole model.
     */
    static PartResult evaluate(PathParts path, Part p, EvalTokens t, NDManager m) {
        Architecture arch = path.architectureAt(p.alpha());
        long perSequence = 4L * t.seqLen() * arch.config().hiddenSize();
        int chunk = (int) Math.max(t.batchSize(), HIDDEN_BUDGET_BYTES / perSequence / t.batchSize() * t.batchSize());
        double[] sum = {0};
        long[] preds = {0};
        for (int from = p.from(); from < p.to(); from += chunk) {
            try (NDManager s = m.newSubManager()) {
                List<NDArray> batches = new ArrayList<>();
                for (int start = from; start < Math.min(p.to(), from + chunk); start += t.batchSize()) {
                    batches.add(batch(s, t, start, Math.min(t.batchSize(), p.to() - start)));
                }
                PartwiseForward.run(arch, path.parts, path.sourceAt(p.alpha()), batches, s,
                        (b, logits, ids) -> {
                            sum[0] += Losses.causalLmSum(logits, ids).toType(DataType.FLOAT64, false).getDouble();
                            preds[0] += Losses.predictedTokens(ids);
                        });
            }
        }
        long examples = p.to() - p.from();
        return new PartResult(p.alphaIndex(), sum[0], preds[0], examples, examples * t.seqLen());
    }

    /** Sequences [start, start + rows) as an int64 tensor [rows, T]. */
    static NDArray batch(NDManager m, EvalTokens t, int start, int rows) {
        long[] ids = new long[rows * t.seqLen()];
        int base = start * t.seqLen();
        for (int i = 0; i < ids.length; i++) {
            ids[i] = t.tokens()[base + i];
        }
        return m.create(ids, new Shape(rows, t.seqLen()));
    }
}
