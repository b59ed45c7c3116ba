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
        double diff = maxLogitDifference(originalArch, original, transformedArch, transformed, input);
        if (!(diff <= tolerance)) {
            throw new LmcException(ExitCode.FAILURE, "self-check failed for " + transformed.source()
                    + ": max |logit difference| to " + original.source() + " is " + diff + ", above the tolerance "
                    + tolerance + "; the transformation does not preserve the model's function");
        }
        return diff;
    }

    /** Max |logits(original) - logits(transformed)| on {@code input}, in float64. */
    public static double maxLogitDifference(Architecture originalArch, Weights original, Architecture transformedArch,
                                            Weights transformed, NDArray input) {
        try (NDManager scope = input.getManager().newSubManager()) {
            Scopes.borrow(input, scope);
            NDArray a = originalArch.forward(original, input);
            a.attach(scope);
            NDArray b = transformedArch.forward(transformed, input);
            b.attach(scope);
            return a.toType(DataType.FLOAT64, false).sub(b.toType(DataType.FLOAT64, false)).abs().max().getDouble();
        }
    }
}
