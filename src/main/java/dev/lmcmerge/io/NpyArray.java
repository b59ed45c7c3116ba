package dev.lmcmerge.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * An n-dimensional array as stored in a {@code .npy} file: dtype, shape (C order) and the
 * little-endian element bytes.
 */
public record NpyArray(DType dtype, long[] shape, ByteBuffer data) {

    public NpyArray {
        shape = shape.clone();
        data = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        data.position(0);
        long n = numel(shape);
        if ((long) data.limit() != n * dtype.byteSize()) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + dtype + " needs "
                    + n * dtype.byteSize() + " bytes, got " + data.limit());
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Number of elements. */
    public long numel() {
        return numel(shape);
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** The elements as longs (integer dtypes; BOOL as 0/1). */
    public long[] toLongs() {
        ByteBuffer b = data();
        int n = (int) numel();
        long[] out = new long[n];
        switch (dtype) {
            case I64 -> b.asLongBuffer().get(out);
            case I32 -> { for (int i = 0; i < n; i++) out[i] = b.getInt(4 * i); }
            case I16 -> { for (int i = 0; i < n; i++) out[i] = b.getShort(2 * i); }
            case I8 -> { for (int i = 0; i < n; i++) out[i] = b.get(i); }
            case U8, BOOL -> { for (int i = 0; i < n; i++) out[i] = b.get(i) & 0xff; }
            default -> throw new IllegalStateException("toLongs on a " + dtype + " array; expected an integer dtype");
        }
        return out;
    }

    /** The elements as floats (floating dtypes converted, integer dtypes widened). */
    public float[] toFloats() {
        if (dtype.isFloating()) {
            return TensorBytes.toFloats(data(), dtype, numel(), "array");
        }
        long[] l = toLongs();
        float[] out = new float[l.length];
        for (int i = 0; i < l.length; i++) {
            out[i] = l[i];
        }
        return out;
    }

    /** A float32 array. */
    public static NpyArray ofFloats(long[] shape, float[] v) {
        return new NpyArray(DType.F32, shape, TensorBytes.fromFloats(v, DType.F32));
    }

    /** An int64 array. */
    public static NpyArray ofLongs(long[] shape, long[] v) {
        return new NpyArray(DType.I64, shape, TensorBytes.fromLongs(v));
    }

    /** An int32 array. */
    public static NpyArray ofInts(long[] shape, int[] v) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(v.length, 4)).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(v);
        return new NpyArray(DType.I32, shape, b);
    }

    /** A float64 array. */
    public static NpyArray ofDoubles(long[] shape, double[] v) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(v.length, 8)).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(v);
        return new NpyArray(DType.F64, shape, b);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NpyArray a && dtype == a.dtype && Arrays.equals(shape, a.shape) && data().equals(a.data());
    }

    @Override
    public int hashCode() {
        return dtype.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "NpyArray[" + dtype + Arrays.toString(shape) + "]";
    }
}
