package dev.lmcmerge.dist;

import java.io.Serializable;
import java.util.Arrays;

/**
 * A float32 tensor as plain Java data: what the driver broadcasts (transform parameters), what
 * tasks send back (gradients) and what checkpoints store. Plain arrays, so Spark serializes them
 * without any tensor library and the driver never needs a native engine for them.
 *
 * @param shape  dimensions (empty for a scalar)
 * @param values row-major values, {@code product(shape)} of them
 */
public record FloatTensor(long[] shape, float[] values) implements Serializable {

    public FloatTensor {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            n *= d;
        }
        if (n != values.length) {
            throw new IllegalArgumentException(values.length + " values for shape " + Arrays.toString(shape));
        }
    }

    /** A tensor of zeros with {@code shape}. */
    public static FloatTensor zeros(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return new FloatTensor(shape.clone(), new float[Math.toIntExact(n)]);
    }

    /** Number of elements. */
    public int size() {
        return values.length;
    }

    /** The shape as ints (for the transforms table's {@code array<int>} column). */
    public int[] intShape() {
        int[] s = new int[shape.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = Math.toIntExact(shape[i]);
        }
        return s;
    }

    /** A deep copy. */
    public FloatTensor copy() {
        return new FloatTensor(shape.clone(), values.clone());
    }

    /** Adds {@code other} into this tensor's values (same shape) and returns this. */
    public FloatTensor addInPlace(FloatTensor other) {
        if (!Arrays.equals(shape, other.shape)) {
            throw new IllegalArgumentException("shape " + Arrays.toString(other.shape) + " added to "
                    + Arrays.toString(shape));
        }
        for (int i = 0; i < values.length; i++) {
            values[i] += other.values[i];
        }
        return this;
    }

    /** Multiplies every value by {@code s} in place and returns this. */
    public FloatTensor scaleInPlace(float s) {
        for (int i = 0; i < values.length; i++) {
            values[i] *= s;
        }
        return this;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FloatTensor t && Arrays.equals(shape, t.shape) && Arrays.equals(values, t.values);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "FloatTensor" + Arrays.toString(shape);
    }
}
