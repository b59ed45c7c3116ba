package dev.lmcmerge.config;

import java.util.List;

/**
 * {@code lmc.align}: the alignment methods to compare and how learned matching trains.
 *
 * @param methods methods whose barrier curves are measured, in order
 * @param steps optimizer steps of learned matching
 * @param lr Adam learning rate
 * @param schedule learning-rate schedule after warm-up
 * @param warmup warm-up steps as configured; see {@link #effectiveWarmup()}
 * @param alphaSampling law of alpha per learned step
 * @param orthogonal parameterization of orthogonal maps
 * @param symmetries symmetry slots the transformations may use
 * @param learnedSymmetries the slots learned matching optimizes (a subset of {@code symmetries}; the
 *                          others keep their weight- or activation-matching value)
 * @param init starting point of learned matching
 * @param dualAnchor how dual learning removes its flat direction
 * @param seed seed of every random choice
 * @param weightMatchingIterations bound on the alternating rounds of weight matching
 * @param checkpointEvery save transform parameters every this many steps; 0: only at the end
 */
public record AlignConfig(
        List<Method> methods,
        int steps,
        double lr,
        Schedule schedule,
        int warmup,
        AlphaSampling alphaSampling,
        Orthogonal orthogonal,
        List<Symmetry> symmetries,
        List<Symmetry> learnedSymmetries,
        Init init,
        DualAnchor dualAnchor,
        long seed,
        int weightMatchingIterations,
        int checkpointEvery) {

    /** Alignment methods; config names are lower case with '-' ({@code weight-matching}). */
    public enum Method { NAIVE, WEIGHT_MATCHING, ACTIVATION_MATCHING, ONE_SIDED, DUAL }

    /** Learning-rate schedules after warm-up. */
    public enum Schedule { CONSTANT, LINEAR, COSINE }

    /** Laws of alpha: uniform on [0, 1], uniform on [0.4, 0.6], always 0.5. */
    public enum AlphaSampling { UNIFORM, NARROW, FIXED }

    /** Orthogonal parameterizations: Cayley transform or matrix exponential of a skew matrix. */
    public enum Orthogonal { CAYLEY, EXPM }

    /** Symmetry slot kinds (DESIGN.md section 4). */
    public enum Symmetry { RESIDUAL, HEADS, QK, VO, FFN, SCALE }

    /** Starting points of learned matching. */
    public enum Init { IDENTITY, WEIGHT_MATCHING, ACTIVATION_MATCHING }

    /** Ways to remove the flat direction of dual learning. */
    public enum DualAnchor { RESIDUAL_A, PENALTY }

    /**
     * Warm-up steps actually taken: at most {@code steps}, so that a short run (or
     * {@code steps = 0}) needs no matching change of the warm-up.
     */
    public int effectiveWarmup() {
        return Math.min(warmup, steps);
    }

    static AlignConfig read(ConfigReader r) {
        int steps = r.intIn("lmc.align.steps", 0, 10_000_000);
        List<Symmetry> symmetries = r.enumList("lmc.align.symmetries", Symmetry.class, false);
        List<Symmetry> learned = symmetries;
        if (!r.isNull("lmc.align.learned-symmetries")) {
            learned = r.enumList("lmc.align.learned-symmetries", Symmetry.class, true);
            for (Symmetry s : learned) {
                if (!symmetries.contains(s)) {
                    throw LmcException.usage("lmc.align.learned-symmetries", ConfigReader.name(s)
                            + " is not among lmc.align.symmetries " + symmetries.stream().map(ConfigReader::name).toList()
                            + "; a slot can only be learned if it is used");
                }
            }
        }
        return new AlignConfig(
                r.enumList("lmc.align.methods", Method.class, false),
                steps,
                r.doubleIn("lmc.align.lr", 0, false, 10, true),
                r.enumValue("lmc.align.schedule", Schedule.class),
                r.intIn("lmc.align.warmup", 0, 10_000_000),
                r.enumValue("lmc.align.alpha-sampling", AlphaSampling.class),
                r.enumValue("lmc.align.orthogonal", Orthogonal.class),
                symmetries,
                learned,
                r.enumValue("lmc.align.init", Init.class),
                r.enumValue("lmc.align.dual-anchor", DualAnchor.class),
                r.longIn("lmc.align.seed", Long.MIN_VALUE, Long.MAX_VALUE),
                r.intIn("lmc.align.weight-matching-iterations", 1, 10_000),
                r.intIn("lmc.align.checkpoint-every", 0, 10_000_000));
    }
}
