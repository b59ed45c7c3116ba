package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;

/**
 * Residual rotation O = expm(S - S^T) (matrix exponential of a skew-symmetric matrix): reaches
 * every rotation, at the cost of a Padé(13) evaluation with a few squarings. See
 * {@link OrthogonalParameterization} for fixOnes.
 */
public final class ExpmOrthogonal extends OrthogonalParameterization {

    /**
     * @param n        size of the rotation (the model width d)
     * @param fixOnes  restrict to rotations fixing the all-ones direction (LayerNorm models)
     */
    public ExpmOrthogonal(int n, boolean fixOnes) {
        super(n, fixOnes);
    }

    @Override
    protected NDArray rotationFromSkew(NDArray skew) {
        return MatrixFunctions.expm(skew);
    }
}
