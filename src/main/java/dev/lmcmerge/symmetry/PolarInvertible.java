package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/**
 * An invertible n x n map in polar form A = U exp(Sym) with U = expm(P1 - P1^T) a rotation and
 * Sym = (P2 + P2^T)/2, so exp(Sym) is symmetric positive definite. Parameters: shape [2, n, n],
 * P1 = params[0], P2 = params[1].
 *
 * <p>The inverse exp(-Sym) U^T and the inverse transpose U exp(-Sym) are exact closed forms: no
 * general matrix inverse, and no way to produce a singular map. Covers the identity component of
 * GL(n) (det > 0); maps with negative determinant are not reachable.
 */
public final class PolarInvertible implements Parameterization {
    /** Eigenvalue spread of Sym in random parameters: condition number at most e^1.8, about 6. */
    private static final double RANDOM_SPREAD = 1.8;

    private final int n;

    /** @param n size of the map (for example the head dimension) */
    public PolarInvertible(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("PolarInvertible needs n >= 1, got " + n);
        }
        this.n = n;
    }

    public int size() {
        return n;
    }

    @Override
    public Shape paramShape() {
        return new Shape(2, n, n);
    }

    @Override
    public NDArray identityParams(NDManager manager) {
        return manager.zeros(paramShape(), DataType.FLOAT32);
    }

    /**
     * Rotation part as in {@link OrthogonalParameterization#randomParams} (far from identity);
     * symmetric part with eigenvalues uniform in [-0.9, 0.9], so the singular values lie in
     * [0.41, 2.46] and the condition number is below e^1.8 (about 6).
     */
    @Override
    public NDArray randomParams(NDManager manager, Random rng) {
        double[] v = new double[2 * n * n];
        System.arraycopy(RandomParams.gaussian(rng, n * n, 0.5 / Math.sqrt(n)), 0, v, 0, n * n);
        System.arraycopy(RandomParams.symmetricWithSpread(rng, n, RANDOM_SPREAD), 0, v, n * n, n * n);
        return manager.create(v, paramShape()).toType(DataType.FLOAT32, false);
    }

    /** Parameters as an NDArray of any shape with 2 n^2 elements (used inside other parameterizations). */
    NDArray[] parts(NDArray params) {
        if (params.getShape().size() != 2L * n * n) {
            throw new IllegalArgumentException("PolarInvertible(" + n + ") expects " + (2L * n * n)
                    + " parameters (shape " + paramShape() + "), got shape " + params.getShape());
        }
        NDArray p = params.reshape(2, n, n);
        NDArray rotation = MatrixFunctions.expm(MatrixFunctions.skew(p.get(0)));
        NDArray sym = MatrixFunctions.sym(p.get(1));
        return new NDArray[] {rotation, sym};
    }

    @Override
    public NDArray materialize(NDArray params) {
        NDArray[] us = parts(params);
        return us[0].matMul(MatrixFunctions.expm(us[1]));
    }

    @Override
    public NDArray materializeInverse(NDArray params) {
        NDArray[] us = parts(params);
        return MatrixFunctions.expm(us[1].neg()).matMul(us[0].transpose());
    }

    @Override
    public NDArray materializeInverseTranspose(NDArray params) {
        NDArray[] us = parts(params);
        return us[0].matMul(MatrixFunctions.expm(us[1].neg()));
    }
}
