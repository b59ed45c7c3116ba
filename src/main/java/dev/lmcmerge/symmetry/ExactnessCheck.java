package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Weights;

/**
 * The run-time self-check that a transformation preserved the model's function: the merge job
 * calls it on every endpoint before spending compute, and {@code lmc transform} reports it.
 */
public final class ExactnessCheck {
    private ExactnessCheck() {
    }

    /**
     * Max |logit difference| between the two weight sets under one architecture.
     *
     * @throws LmcException FAILURE naming the model and the difference when it exceeds {@code tolerance}
     */
    public static double verifyPreserved(Architecture arch, Weights original, Weights transformed, NDArray input,
                                         double tolerance) {
        return verifyPreserved(arch, original, arch, transformed, input, tolerance);
    }

    /**
     * As {@link #verifyPreserved(Architecture, Weights, Weights, NDArray, double)} where the
     * transformed model runs under its own architecture (e.g. a config with eps multiplied by c^2).
     */
    public static double verifyPreserved(Architecture originalArch, Weights original, Architecture transformedArch,
                                         Weights transformed, NDArray input, double tolerance) {
        return check(differenceAndScale(originalArch, original, transformedArch, transformed, input), original.source(),
                transformed.source(), tolerance);
    }

    /** Max |logits(original) - logits(transformed)| on {@code input}, in float64. */
    public static double maxLogitDifference(Architecture originalArch, Weights original, Architecture transformedArch,
                                            Weights transformed, NDArray input) {
        return differenceAndScale(originalArch, original, transformedArch, transformed, input)[0];
    }

    /** {max |logit difference|, max |original logit|}. */
    private static double[] differenceAndScale(Architecture originalArch, Weights original, Architecture transformedArch,
                                               Weights transformed, NDArray input) {
        try (NDManager scope = input.getManager().newSubManager()) {
            Scopes.borrow(input, scope);
            NDArray a = originalArch.forward(original, input);
            a.attach(scope);
            NDArray b = transformedArch.forward(transformed, input);
            b.attach(scope);
            return differenceAndScale(a, b);
        }
    }

    private static double[] differenceAndScale(NDArray original, NDArray transformed) {
        NDArray a64 = original.toType(DataType.FLOAT64, false);
        return new double[] {a64.sub(transformed.toType(DataType.FLOAT64, false)).abs().max().getDouble(),
            a64.abs().max().getDouble()};
    }

    /**
     * As {@link #verifyPreserved(Architecture, Weights, Architecture, Weights, NDArray, double)}
     * for logits already computed (e.g. by a forward pass that makes the transformed weights part
     * by part).
     *
     * @param originalSource    what the original logits come from, for the message
     * @param transformedSource what the transformed logits come from
     */
    public static double verifyLogits(NDArray originalLogits, String originalSource, NDArray transformedLogits,
                                      String transformedSource, double tolerance) {
        return check(differenceAndScale(originalLogits, transformedLogits), originalSource, transformedSource, tolerance);
    }

    private static double check(double[] d, String originalSource, String transformedSource, double tolerance) {
        if (!(d[0] <= tolerance)) {
            // The logits' magnitude tells float32 rounding (about 1e-7 of it per layer) from a broken transform.
            throw new LmcException(ExitCode.FAILURE, "self-check failed for " + transformedSource
                    + ": max |logit difference| to " + originalSource + " is " + d[0] + ", above the tolerance "
                    + tolerance + " (logits up to " + String.format(java.util.Locale.ROOT, "%.3g", d[1])
                    + " in magnitude); the transformation does not preserve the model's function"
                    + " (if the difference is float32 rounding of very large logits, raise lmc.check.tolerance)");
        }
        return d[0];
    }
}
