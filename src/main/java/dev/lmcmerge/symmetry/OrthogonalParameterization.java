package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/**
 * A residual rotation O (n x n, det +1) generated from an unconstrained square parameter matrix
 * S through the skew-symmetric matrix S - S^T. The inverse is the transpose.
 *
 * <p>With {@code fixOnes} (LayerNorm models) the parameters are (n-1) x (n-1) and
 * O = H diag(1, O') H^T, with H the fixed Householder reflection taking e_1 to 1/sqrt(n)
 * (see {@link MatrixFunctions#embedFixingOnes}); then O 1 = 1 and O^T 1 = 1, so rotated
 * writers stay centered and LayerNorm with weight 1 and bias 0 stays exact after interpolation.
 */
public abstract class OrthogonalParameterization implements Parameterization {
    private final int n;
    private final boolean fixOnes;

    protected OrthogonalParameterization(int n, boolean fixOnes) {
        if (n < (fixOnes ? 2 : 1)) {
            throw new IllegalArgumentException("orthogonal parameterization needs n >= " + (fixOnes ? 2 : 1) + ", got " + n);
        }
        this.n = n;
        this.fixOnes = fixOnes;
    }

    /** Size of the rotation. */
    public int size() {
        return n;
    }

    /** Whether the rotation is restricted to fix the all-ones direction. */
    public boolean fixesOnes() {
        return fixOnes;
    }

    /** The rotation of the free block from its skew-symmetric generator. */
    protected abstract NDArray rotationFromSkew(NDArray skew);

    private int innerSize() {
        return fixOnes ? n - 1 : n;
    }

    @Override
    public Shape paramShape() {
        return new Shape(innerSize(), innerSize());
    }

    @Override
    public NDArray identityParams(NDManager manager) {
        return manager.zeros(paramShape(), DataType.FLOAT32);
    }

    /**
     * Entries normal with std 0.5/sqrt(m) (m the parameter size): S - S^T then has spectral
     * radius about 1.4, i.e. rotation angles up to about 80 degrees in many planes (Cayley
     * roughly doubles the arctangent), so ||O - I|| is of order 1.
     */
    @Override
    public NDArray randomParams(NDManager manager, Random rng) {
        int m = innerSize();
        double[] v = RandomParams.gaussian(rng, m * m, 0.5 / Math.sqrt(m));
        return manager.create(v, paramShape()).toType(DataType.FLOAT32, false);
    }

    @Override
    public NDArray materialize(NDArray params) {
        requireShape(params);
        NDArray inner = rotationFromSkew(MatrixFunctions.skew(params));
        return fixOnes ? MatrixFunctions.embedFixingOnes(inner) : inner;
    }

    @Override
    public NDArray materializeInverse(NDArray params) {
        return materialize(params).transpose();
    }

    @Override
    public NDArray materializeInverseTranspose(NDArray params) {
        return materialize(params);
    }

    void requireShape(NDArray params) {
        if (!params.getShape().equals(paramShape())) {
            throw new IllegalArgumentException(getClass().getSimpleName() + "(" + n + (fixOnes ? ", fixOnes" : "")
                    + ") expects parameters of shape " + paramShape() + ", got " + params.getShape());
        }
    }
}
