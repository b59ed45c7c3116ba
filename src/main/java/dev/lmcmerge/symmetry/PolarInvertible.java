package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
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

    /**
     * The rotations U [G, n, n] and exp(sign Sym) [G, n, n] of a batch of parameters
     * ([G, 2, n, n], or [G, 2 n^2] inside other parameterizations) from one batched matrix
     * exponential of the 2G matrices. The squarings are shared by the batch and equal for sign
     * +1 and -1 on the same parameters, so exp(-Sym) exp(Sym) = I and U is the same in every variant.
     */
    NDArray[] partsBatch(NDArray params, int sign) {
        NDArray[] sk = generators(params);
        long g = params.getShape().get(0);
        NDArray e = MatrixFunctions.expmBatch(sk[0].concat(sign > 0 ? sk[1] : sk[1].neg(), 0));
        return new NDArray[] {e.get("0:" + g), e.get(g + ":")};
    }

    /** The skew-symmetric and symmetric generators [G, n, n] of a batch of parameters. */
    private NDArray[] generators(NDArray params) {
        long g = params.getShape().get(0);
        if (params.getShape().dimension() < 2 || params.getShape().size() != g * 2L * n * n) {
            throw new IllegalArgumentException("PolarInvertible(" + n + ") expects a batch of parameters [G, 2, " + n + ", "
                    + n + "], got shape " + params.getShape());
        }
        NDArray p = params.reshape(g, 2, n, n);
        return new NDArray[] {MatrixFunctions.skewBatch(p.get(":, 0")), MatrixFunctions.symBatch(p.get(":, 1"))};
    }

    /** U exp(Sym) of every row, in a fixed number of batched operations. */
    @Override
    public NDArray materializeBatch(NDArray params) {
        NDArray[] us = partsBatch(params, 1);
        return us[0].matMul(us[1]);
    }

    /** exp(-Sym) U^T of every row. */
    @Override
    public NDArray materializeInverseBatch(NDArray params) {
        NDArray[] us = partsBatch(params, -1);
        return us[1].matMul(MatrixFunctions.transposeBatch(us[0]));
    }

    /** U exp(-Sym) of every row. */
    @Override
    public NDArray materializeInverseTransposeBatch(NDArray params) {
        NDArray[] us = partsBatch(params, -1);
        return us[0].matMul(us[1]);
    }

    /**
     * U exp(Sym) and U exp(-Sym) of every row from one batched exponential of the 3G matrices
     * (skew part once, symmetric part with both signs): three quarters of the work of the two
     * separate calls, in half the native calls.
     */
    @Override
    public NDArray[] materializeWithInverseTransposeBatch(NDArray params) {
        NDArray[] sk = generators(params);
        long g = params.getShape().get(0);
        NDArray e = MatrixFunctions.expmBatch(NDArrays.concat(new NDList(sk[0], sk[1], sk[1].neg()), 0));
        NDArray u = e.get("0:" + g);
        return new NDArray[] {u.matMul(e.get(g + ":" + 2 * g)), u.matMul(e.get(2 * g + ":"))};
    }

    /** Equal maps have equal sizes (lets the engine batch the slots of several layers together). */
    @Override
    public boolean equals(Object o) {
        return o instanceof PolarInvertible p && p.n == n;
    }

    @Override
    public int hashCode() {
        return Integer.hashCode(n) * 31 + 7;
    }
}
