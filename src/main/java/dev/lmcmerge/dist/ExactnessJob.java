package dev.lmcmerge.dist;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.align.EpsScaledArchitectures;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.ModelParts;
import dev.lmcmerge.model.PartwiseForward;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.ExactnessCheck;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;

/**
 * The run-time self-check (DESIGN.md section 8, issue 6 item 8): before any learned step, each
 * endpoint's canonical form and its initial transformed form are run on a few tokens next to the
 * model as stored; a max |logit difference| above {@code lmc.check.tolerance} fails the run
 * (exit 1) before compute is spent on a transformation that is not exact. Runs on the executors,
 * which hold the weights.
 */
public final class ExactnessJob {
    private ExactnessJob() {}

    /**
     * One check: side {@code a} or {@code b}, transformed by {@code chain} (empty: the canonical form).
     *
     * @param label what is checked, for the message (e.g. "canonical form", "weight-matching transform")
     */
    public record Item(String side, String label, List<Map<String, FloatTensor>> chain, FloatTensor storedLogits)
            implements Serializable {
        /** A check against the stored model's logits computed in the task (from the stored weights). */
        public Item(String side, String label, List<Map<String, FloatTensor>> chain) {
            this(side, label, chain, null);
        }
    }

    /**
     * A passed check.
     *
     * @param storedLogits the stored model's logits on the check's tokens, so later checks of the
     *                     same side need not hold the stored weights
     */
    public record Outcome(String side, String label, double maxDifference, FloatTensor storedLogits)
            implements Serializable {}

    /**
     * Runs the checks, one task each, on {@code tokens} (one sequence).
     *
     * @throws dev.lmcmerge.config.LmcException FAILURE (from the task) when a check fails
     */
    public static List<Outcome> run(JavaSparkContext sc, JobContext ctx, List<Item> items, long[] tokens,
                                    double tolerance) {
        sc.setJobDescription("self-check: " + items.size() + " transformed form(s) against the stored models");
        // The items' chains are the transforms' parameters (about 100 MB a side at 1B): broadcast, so
        // each task carries only its index.
        Broadcast<List<Item>> all = sc.broadcast(new ArrayList<>(items));
        try {
            List<Integer> indices = IntStream.range(0, items.size()).boxed().toList();
            return sc.parallelize(indices, items.size()).map(new Task(ctx, all, tokens, tolerance)).collect();
        } finally {
            all.destroy();
        }
    }

    static final class Task implements Function<Integer, Outcome> {
        private final JobContext ctx;
        private final Broadcast<List<Item>> items;
        private final long[] tokens;
        private final double tolerance;

        Task(JobContext ctx, Broadcast<List<Item>> items, long[] tokens, double tolerance) {
            this.ctx = ctx;
            this.items = items;
            this.tokens = tokens;
            this.tolerance = tolerance;
        }

        @Override
        public Outcome call(Integer index) {
            Item item = items.value().get(index);
            // The transformed form is made part by part from the canonical one (SideParts), as
            // evaluation and export make it, so the check covers what they will use. The stored
            // model's logits are computed once per side and then passed in by the driver.
            try (TaskScope ts = TaskScope.open(ctx)) {
                NDManager m = ts.manager();
                NDArray ids = m.create(tokens, new Shape(1, tokens.length));
                // Stored logits first: the canonical form is then made from the cached stored form
                // instead of a second read of the checkpoint next to it.
                FloatTensor stored = item.storedLogits() != null ? item.storedLogits() : storedLogits(item.side(), ids, m);
                try (ExecutorModelCache.Lease lc = ExecutorModels.canonical(ctx, item.side(), m)) {
                    return check(item, stored, ids, lc, m);
                }
            }
        }

        private Outcome check(Item item, FloatTensor stored, NDArray ids, ExecutorModelCache.Lease lc, NDManager m) {
            ExecutorModels.Info info = ExecutorModels.info(ctx, item.side());
            NDArray expected = m.create(stored.values(), new Shape(stored.shape()));
            Weights canonical = lc.view(m);
            SideParts transformed = new SideParts(info.spec(), canonical,
                    SideParts.transforms(ctx, info, item.chain(), m));
            double eps = ExecutorModels.epsScale(ctx, item.side(), item.chain(), m);
            Architecture arch = new EpsScaledArchitectures(info.architecture()).forFactor(eps);
            String what = "model " + item.side().toUpperCase() + " (" + ctx.location(item.side()) + "), " + item.label();
            String storedName = "model " + item.side().toUpperCase() + " (" + ctx.location(item.side()) + ") as stored";
            double[] diff = {0};
            PartwiseForward.run(arch, ModelParts.of(info.architecture(), canonical::has), transformed,
                    List.of(ids), m, (b, logits, input) -> diff[0] = ExactnessCheck.verifyLogits(expected,
                            storedName, logits, what, tolerance));
            return new Outcome(item.side(), item.label(), diff[0], stored);
        }

        private FloatTensor storedLogits(String side, NDArray ids, NDManager m) {
            try (ExecutorModelCache.Lease lo = ExecutorModels.original(ctx, side, m)) {
                NDArray logits = ExecutorModels.info(ctx, side).architecture().forward(lo.view(m), ids);
                return new FloatTensor(logits.getShape().getShape(), logits.toFloatArray());
            }
        }
    }
}
