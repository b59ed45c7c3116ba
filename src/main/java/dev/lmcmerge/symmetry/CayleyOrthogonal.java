package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;

/**
 * Residual rotation O = (I - A)(I + A)^{-1} with A = S - S^T (Cayley transform). Cheap (one
 * inverse) and exact to rounding, but it cannot reach rotations with eigenvalue -1; use
 * {@link ExpmOrthogonal} if that matters. See {@link OrthogonalParameterization} for fixOnes.
 */
public final class CayleyOrthogonal extends OrthogonalParameterization {

    /**
     * @param n        size of the rotation (the model width d)
     * @param fixOnes  restrict to rotations fixing the all-ones direction (LayerNorm models)
     */
    public CayleyOrthogonal(int n, boolean fixOnes) {
        super(n, fixOnes);
    }

    @Override
    protected NDArray rotationFromSkew(NDArray skew) {
        return MatrixFunctions.cayley(skew);
    }

    /**
     * Parameters whose element is {@code o} (a rotation with no eigenvalue -1; with fixOnes it
     * must also fix the all-ones direction): S = A/2 with A the inverse Cayley transform of the
     * free block, so S - S^T = A. Requires n >= 2 when fixOnes. Lets a matching result (for example Procrustes) seed learning.
     */
    public NDArray paramsOf(NDArray o) {
        NDArray inner = fixesOnes() ? MatrixFunctions.innerOfFixingOnes(o) : o;
        NDArray a = MatrixFunctions.inverseCayley(inner);
        // (A - A^T)/4 rather than A/2: identical for skew A, and drops any rounding asymmetry.
        return a.sub(a.transpose()).mul(0.25);
    }
}
