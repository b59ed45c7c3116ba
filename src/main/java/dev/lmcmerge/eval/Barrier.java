package dev.lmcmerge.eval;

import dev.lmcmerge.config.LmcException;

/**
 * The loss barrier of an interpolation curve L(alpha) sampled on a grid from alpha = 0 (model A)
 * to alpha = 1 (model B):
 *
 * <pre>
 *   barrier     = max_alpha [ L(alpha) - ((1 - alpha) L(0) + alpha L(1)) ]
 *   barrier_rel = barrier / ((L(0) + L(1)) / 2)
 * </pre>
 *
 * The endpoints contribute 0 to the maximum, so a barrier is never negative: a curve that stays
 * below the chord has barrier 0 (linearly mode connected).
 *
 * @param barrier     the largest excess of the curve over the chord between its endpoints
 * @param barrierRel  {@code barrier} relative to the mean endpoint loss
 * @param argmaxAlpha the alpha where the excess is largest (0 when the barrier is 0)
 * @param lossA       L(0)
 * @param lossB       L(1)
 */
public record Barrier(double barrier, double barrierRel, double argmaxAlpha, double lossA, double lossB) {

    /**
     * The barrier of the curve {@code losses[i] = L(alphas[i])}. The grid must be strictly
     * increasing from exactly 0 to exactly 1 and every loss finite.
     */
    public static Barrier of(double[] alphas, double[] losses) {
        if (alphas.length != losses.length) {
            throw LmcException.invalidInput("barrier curve",
                    alphas.length + " alphas but " + losses.length + " losses; expected one loss per alpha");
        }
        if (alphas.length < 2 || alphas[0] != 0.0 || alphas[alphas.length - 1] != 1.0) {
            throw LmcException.invalidInput("barrier curve",
                    "the alpha grid must start at 0 and end at 1 (the two models), got " + java.util.Arrays.toString(alphas));
        }
        for (int i = 0; i < alphas.length; i++) {
            if (i > 0 && !(alphas[i] > alphas[i - 1])) {
                throw LmcException.invalidInput("barrier curve", "alphas must be strictly increasing, got "
                        + java.util.Arrays.toString(alphas));
            }
            if (!Double.isFinite(losses[i])) {
                throw LmcException.invalidInput("barrier curve", "loss at alpha " + alphas[i] + " is " + losses[i]
                        + "; expected a finite number");
            }
        }
        double l0 = losses[0];
        double l1 = losses[losses.length - 1];
        double best = 0.0;
        double arg = 0.0;
        for (int i = 0; i < alphas.length; i++) {
            double excess = losses[i] - ((1.0 - alphas[i]) * l0 + alphas[i] * l1);
            if (excess > best) {
                best = excess;
                arg = alphas[i];
            }
        }
        double mean = (l0 + l1) / 2.0;
        return new Barrier(best, best / mean, arg, l0, l1);
    }

    /** {@code n} evenly spaced alphas from 0 to 1 inclusive (n >= 2); the ends are exactly 0 and 1. */
    public static double[] grid(int n) {
        if (n < 2) {
            throw LmcException.usage("--alphas", "need at least 2 grid points (the two models), got " + n);
        }
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = (double) i / (n - 1);
        }
        a[n - 1] = 1.0;
        return a;
    }
}
