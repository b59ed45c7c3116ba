package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/**
 * Global residual scale c = exp(s) > 0, returned as a one-element array; inverse 1/c.
 *
 * <p>Multiplying the embeddings, every residual writer and writer bias by c is exact only if
 * every norm's epsilon becomes c^2 eps (RMSNorm(c x) with eps c^2 equals RMSNorm(x) with eps).
 * This class only produces c; the transform engine and the export apply the eps rule and write
 * the (interpolated) eps into the exported config.
 */
public final class ResidualScale implements Parameterization {
    private static final Shape SHAPE = new Shape(1);

    @Override
    public Shape paramShape() {
        return SHAPE;
    }

    @Override
    public NDArray identityParams(NDManager manager) {
        return manager.zeros(SHAPE, DataType.FLOAT32);
    }

    /** c in [0.5, 0.67] or [1.5, 2], chosen with equal odds: clearly not 1. */
    @Override
    public NDArray randomParams(NDManager manager, Random rng) {
        double s = Math.log(1.5) + (Math.log(2) - Math.log(1.5)) * rng.nextDouble();
        return manager.create(new float[] {(float) (rng.nextBoolean() ? s : -s)}, SHAPE);
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

    private static void requireShape(NDArray params) {
        if (!params.getShape().equals(SHAPE)) {
            throw new IllegalArgumentException("ResidualScale expects parameters of shape (1), got " + params.getShape());
        }
    }
}
