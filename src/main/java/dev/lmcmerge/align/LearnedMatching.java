package dev.lmcmerge.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.data.TokenDataset;
import dev.lmcmerge.symmetry.Slot;
import dev.lmcmerge.symmetry.SlotKind;
import dev.lmcmerge.symmetry.Transform;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Learned matching: minimizes J(theta_A, theta_B) = E_alpha L((1 - alpha) T_A(W_A) + alpha T_B(W_B))
 * over the transforms' parameters with Adam (warm-up, then the chosen decay), one training batch
 * and {@code alphasPerStep} alpha samples from the alpha law per step, gradients by layer-block
 * streaming ({@link InterpolationPath#streamingGradients}). Permutations are hard in the forward
 * pass and learn through their straight-through latent.
 *
 * <ul>
 *   <li><b>one-sided</b>: only B learns (T_A = identity), as in Theus et al.;</li>
 *   <li><b>dual</b>: A and B both learn toward one shared path (Li and Shen). A transformation
 *       applied to both sides moves the whole path without changing the loss, a flat direction
 *       of J; by default it is removed by anchoring A's residual rotation at its starting value
 *       ({@link Anchor#RESIDUAL_A}: A learns every other slot); alternatively
 *       {@link Anchor#PENALTY} lets both sides learn everything and adds
 *       {@code penalty * ||theta - theta_0||^2} per side.</li>
 * </ul>
 *
 * The path's parameters are updated in place; the caller reads the result from the path.
 */
public final class LearnedMatching {
    private LearnedMatching() {
    }

    /** Which sides learn. */
    public enum Mode {
        ONE_SIDED, DUAL;

        public static Mode parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw LmcException.usage("mode", "unknown learned-matching mode '" + s + "'; expected one-sided or dual");
            }
        }
    }

    /** How dual learning removes its flat direction. */
    public enum Anchor {
        /** A's residual rotation stays at its starting value (identity); everything else learns. */
        RESIDUAL_A,
        /** Both sides learn everything, with an L2 pull toward their starting parameters. */
        PENALTY;

        public static Anchor parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw LmcException.usage("align.dual-anchor", "unknown anchor '" + s + "'; expected residual-a or penalty");
            }
        }
    }

    /**
     * @param mode          one-sided or dual
     * @param steps         optimizer steps
     * @param lr            peak learning rate
     * @param warmup        linear warm-up steps
     * @param schedule      shape after warm-up
     * @param alphaLaw      law of alpha
     * @param alphasPerStep alpha samples (gradient averaged) per step
     * @param batchSize     training sequences per step
     * @param anchor        flat-direction removal of dual learning
     * @param penalty       weight of the L2 pull ({@link Anchor#PENALTY} only)
     * @param seed          seeds alpha sampling and batch order
     * @param logEvery      print the running loss every this many steps (0: never)
     */
    public record Options(Mode mode, int steps, double lr, int warmup, AdamSchedule.Shape schedule, AlphaLaw alphaLaw,
                          int alphasPerStep, int batchSize, Anchor anchor, double penalty, long seed, int logEvery) {
        public Options {
            if (steps < 1 || alphasPerStep < 1 || batchSize < 1 || penalty < 0) {
                throw LmcException.usage("align", "learned matching needs steps >= 1, alphas per step >= 1, batch size >= 1"
                        + " and penalty >= 0; got steps=" + steps + " alphasPerStep=" + alphasPerStep + " batchSize="
                        + batchSize + " penalty=" + penalty);
            }
        }

        /** Defaults: cosine after 10% warm-up, alpha ~ uniform(0, 1), one alpha per step, residual-A anchor. */
        public static Options defaults(Mode mode, int steps, double lr, int batchSize, long seed) {
            return new Options(mode, steps, lr, Math.max(0, Math.min(steps - 1, steps / 10)), AdamSchedule.Shape.COSINE,
                    AlphaLaw.uniform(), 1, batchSize, Anchor.RESIDUAL_A, 1e-3, seed, 0);
        }

        public Options withAnchor(Anchor a, double p) {
            return new Options(mode, steps, lr, warmup, schedule, alphaLaw, alphasPerStep, batchSize, a, p, seed, logEvery);
        }

        public Options withAlphaLaw(AlphaLaw law, int perStep) {
            return new Options(mode, steps, lr, warmup, schedule, law, perStep, batchSize, anchor, penalty, seed, logEvery);
        }

        public Options withLogEvery(int every) {
            return new Options(mode, steps, lr, warmup, schedule, alphaLaw, alphasPerStep, batchSize, anchor, penalty, seed, every);
        }
    }

    /** The slots A learns under {@code o}, out of every active slot of {@code t}. */
    public static Set<String> learnedSlotsA(Transform t, Options o) {
        if (o.mode() == Mode.ONE_SIDED) {
            return Set.of();
        }
        Set<String> s = new LinkedHashSet<>(t.parameters().keySet());
        if (o.anchor() == Anchor.RESIDUAL_A) {
            s.remove(Slot.nameOf(SlotKind.RESIDUAL_ROTATION, -1));
        }
        return s;
    }

    /** The slots B learns: every active slot. */
    public static Set<String> learnedSlotsB(Transform t) {
        return new LinkedHashSet<>(t.parameters().keySet());
    }

    /**
     * Runs the optimization on {@code path} (built with {@link #learnedSlotsA} / {@link #learnedSlotsB}).
     *
     * @param train training sequences (batches of {@code o.batchSize()} rows, in a seeded random order)
     * @param log   progress lines, or null
     * @return the mean path loss of each step (over its alpha samples)
     */
    public static double[] train(InterpolationPath path, TokenDataset train, Options o, Consumer<String> log) {
        int batches = train.numBatches(o.batchSize());
        if (batches == 0) {
            throw LmcException.invalidInput(train.source(), "no training sequences for learned matching");
        }
        AdamSchedule adam = new AdamSchedule(o.lr(), o.steps(), Math.min(o.warmup(), o.steps() - 1), o.schedule(), 0.0);
        Random rng = new Random(o.seed());
        List<Integer> order = new ArrayList<>();
        double[] losses = new double[o.steps()];
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> initA = snapshot(path.a().params(), m);
            Map<String, NDArray> initB = snapshot(path.b().params(), m);
            for (int step = 0; step < o.steps(); step++) {
                if (order.isEmpty()) {
                    for (int i = 0; i < batches; i++) {
                        order.add(i);
                    }
                    java.util.Collections.shuffle(order, rng);
                }
                int batch = order.remove(order.size() - 1);
                try (NDManager sm = m.newSubManager()) {
                    NDArray ids = train.batch(sm, batch, o.batchSize());
                    Map<String, NDArray> gA = new LinkedHashMap<>();
                    Map<String, NDArray> gB = new LinkedHashMap<>();
                    double loss = 0;
                    for (int k = 0; k < o.alphasPerStep(); k++) {
                        double alpha = o.alphaLaw().sample(rng);
                        try (InterpolationPath.Gradients g = path.gradients(ids, alpha, InterpolationPath.DEFAULT_GRAPH_MEMORY)) {
                            loss += g.loss() / o.alphasPerStep();
                            addScaled(gA, g.a(), 1.0 / o.alphasPerStep(), sm);
                            addScaled(gB, g.b(), 1.0 / o.alphasPerStep(), sm);
                        }
                    }
                    if (o.anchor() == Anchor.PENALTY && o.mode() == Mode.DUAL) {
                        addPenalty(gA, path.a().params(), initA, o.penalty());
                        addPenalty(gB, path.b().params(), initB, o.penalty());
                    }
                    for (Map.Entry<String, NDArray> e : gA.entrySet()) {
                        adam.update("a/" + e.getKey(), path.a().params().get(e.getKey()), e.getValue());
                    }
                    for (Map.Entry<String, NDArray> e : gB.entrySet()) {
                        adam.update("b/" + e.getKey(), path.b().params().get(e.getKey()), e.getValue());
                    }
                    losses[step] = loss;
                }
                if (log != null && o.logEvery() > 0 && ((step + 1) % o.logEvery() == 0 || step == o.steps() - 1)) {
                    log.accept(String.format(Locale.ROOT, "%s step %d/%d: path loss %.4f (lr %.2e)",
                            o.mode().name().toLowerCase(Locale.ROOT).replace('_', '-'), step + 1, o.steps(), loss(losses, step,
                                    o.logEvery()), adam.learningRate(step + 1)));
                }
            }
        }
        return losses;
    }

    private static double loss(double[] losses, int step, int window) {
        double s = 0;
        int n = 0;
        for (int i = Math.max(0, step - window + 1); i <= step; i++) {
            s += losses[i];
            n++;
        }
        return s / n;
    }

    private static Map<String, NDArray> snapshot(Map<String, NDArray> params, NDManager m) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            NDArray c = e.getValue().duplicate();
            c.attach(m);
            out.put(e.getKey(), c);
        }
        return out;
    }

    private static void addScaled(Map<String, NDArray> acc, Map<String, NDArray> g, double scale, NDManager m) {
        for (Map.Entry<String, NDArray> e : g.entrySet()) {
            NDArray scaled = e.getValue().mul(scale);
            scaled.attach(m);
            NDArray have = acc.get(e.getKey());
            if (have == null) {
                acc.put(e.getKey(), scaled);
            } else {
                have.addi(scaled);
            }
        }
    }

    /** grad += 2 lambda (theta - theta_0), the gradient of lambda ||theta - theta_0||^2. */
    private static void addPenalty(Map<String, NDArray> grads, Map<String, NDArray> params, Map<String, NDArray> init,
                                   double lambda) {
        for (Map.Entry<String, NDArray> e : grads.entrySet()) {
            NDArray diff = params.get(e.getKey()).sub(init.get(e.getKey())).mul(2 * lambda);
            e.getValue().addi(diff);
            diff.close();
        }
    }
}
