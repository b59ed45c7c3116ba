package dev.lmcmerge.io;

import java.util.Arrays;

/**
 * One tensor of a safetensors file: name, dtype, shape and its byte range
 * {@code [begin, end)} relative to the start of the data section (after the header).
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        shape = shape.clone();
    }

    /**
     * A tensor laid out at offset 0 (for writers and shard planning, before offsets are known).
     *
     * @throws IllegalArgumentException for a negative dimension or a byte size that overflows
     */
    public static TensorInfo of(String name, DType dtype, long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': negative dimension in " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return new TensorInfo(name, dtype, shape, 0, Math.multiplyExact(n, (long) dtype.byteSize()));
    }

    /** Number of elements (1 for a scalar). Overflow has been ruled out when read from a file. */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Bytes the tensor occupies: {@code end - begin}. */
    public long byteLength() {
        return end - begin;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Dimension {@code i} without copying the shape. */
    public long dim(int i) {
        return shape[i];
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** The same tensor at another offset (used by writers laying tensors out). */
    public TensorInfo at(long newBegin) {
        return new TensorInfo(name, dtype, shape, newBegin, newBegin + byteLength());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " @[" + begin + ", " + end + ")";
    }
}
