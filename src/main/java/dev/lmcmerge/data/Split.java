package dev.lmcmerge.data;

import dev.lmcmerge.config.LmcException;
import java.util.Locale;

/**
 * Which part of a dataset to use. The split is fixed and deterministic: after a dataset has
 * been cut into sequences (or rows, for images), the LAST {@link #evalCount} of them are the
 * held-out eval part and all earlier ones are the train part. Contiguous tails keep eval text
 * unseen by training even across sequence boundaries, and need no random seed.
 */
public enum Split {
    ALL, TRAIN, EVAL;

    /** Default fraction of sequences held out for evaluation. */
    public static final double DEFAULT_EVAL_FRACTION = 0.1;

    /**
     * Number of eval items out of {@code n}: {@code ceil(n * evalFraction)}, so any positive
     * fraction holds out at least one item. {@code evalFraction} must lie in [0, 1].
     */
    public static long evalCount(long n, double evalFraction) {
        checkFraction(evalFraction, "eval-fraction");
        // The small epsilon keeps products like 10 * 0.1 = 1.0000000000000002 from rounding up to 2.
        long k = (long) Math.ceil(n * evalFraction - 1e-9);
        return Math.max(0, Math.min(n, k));
    }

    /** The half-open range {@code [from, to)} of items this split covers out of {@code n}. */
    public long[] range(long n, double evalFraction) {
        long firstEval = n - evalCount(n, evalFraction);
        return switch (this) {
            case ALL -> new long[] {0, n};
            case TRAIN -> new long[] {0, firstEval};
            case EVAL -> new long[] {firstEval, n};
        };
    }

    /**
     * Throws USAGE naming {@code key} unless {@code f} lies in [0, 1].
     */
    public static void checkFraction(double f, String key) {
        if (!(f >= 0 && f <= 1)) {
            throw LmcException.usage(key, "must lie in [0, 1], got " + f);
        }
    }

    /**
     * The split named {@code value} ({@code all}, {@code train}, {@code eval}; case-insensitive).
     *
     * @throws LmcException USAGE naming {@code key} if the name is unknown
     */
    public static Split parse(String value, String key) {
        for (Split s : values()) {
            if (s.name().equalsIgnoreCase(value.trim())) {
                return s;
            }
        }
        throw LmcException.usage(key, "unknown split '" + value + "'; expected all, train or eval");
    }

    /** The lower-case name used on the command line and in outputs. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
