package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/**
 * Per-unit positive scales s = exp(u) (a vector of n), inverse 1/s = exp(-u). Used for FFN
 * units of gated MLPs, where scaling the up-projection row by s and the down-projection column
 * by 1/s is exact (the activation acts on the gate only). Signs are not part of the group
 * element: they stay fixed at the initial value, as the exponential cannot cross zero.
 */
public final class PositiveScale implements Parameterization {
    private final int n;

    /** @param n number of units */
    public PositiveScale(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("PositiveScale needs n >= 1, got " + n);
        }
        this.n = n;
    }

    public int size() {
        return n;
    }

    @Override
    public Shape paramShape() {
        return new Shape(n);
    }

    @Override
    public NDArray identityParams(NDManager manager) {
        return manager.zeros(paramShape(), DataType.FLOAT32);
    }

    /** exp(u) uniform on the log scale in [0.5, 2]. */
    @Override
    public NDArray randomParams(NDManager manager, Random rng) {
        double[] u = RandomParams.uniform(rng, n, -Math.log(2), Math.log(2));
        return manager.create(u, paramShape()).toType(DataType.FLOAT32, false);
    }

    @Override
    public NDArray materialize(NDArray params) {
        requireShape(params);
        return params.exp();
    }

    @Override
    public NDArray materializeInverse(NDArray params) {
        requireShape(params);
        return params.neg().exp();
    }

    /** exp(u) of every row of params [G, n]: one elementwise op. */
    @Override
    public NDArray materializeBatch(NDArray params) {
        requireBatchShape(params);
        return params.exp();
    }

    /** exp(-u) of every row. */
    @Override
    public NDArray materializeInverseBatch(NDArray params) {
        requireBatchShape(params);
        return params.neg().exp();
    }

    /** For scale vectors the inverse transpose is the inverse. */
    @Override
    public NDArray materializeInverseTransposeBatch(NDArray params) {
        return materializeInverseBatch(params);
    }

    private void requireBatchShape(NDArray params) {
        if (params.getShape().dimension() != 2 || params.getShape().get(1) != n) {
            throw new IllegalArgumentException("PositiveScale(" + n + ") expects a batch of parameters [G, " + n + "], got "
                    + params.getShape());
        }
    }

    /** Equal maps have equal sizes (lets the engine batch the slots of several layers together). */
    @Override
    public boolean equals(Object o) {
        return o instanceof PositiveScale p && p.n == n;
    }

    @Override
    public int hashCode() {
        return Integer.hashCode(n) * 31 + 3;
    }

    private void requireShape(NDArray params) {
        if (!params.getShape().equals(paramShape())) {
            throw new IllegalArgumentException("PositiveScale(" + n + ") expects parameters of shape " + paramShape()
                    + ", got " + params.getShape());
        }
    }
}
