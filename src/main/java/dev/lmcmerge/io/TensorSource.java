package dev.lmcmerge.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.function.Supplier;

/**
 * A tensor to be written: its name, dtype and shape ({@link #info()}, laid out at offset 0) and
 * a way to produce its bytes when the writer gets to it. Writers pull one tensor at a time, so
 * a checkpoint never has to be in memory whole.
 */
public interface TensorSource {

    /** Name, dtype and shape; {@code byteLength()} is the number of bytes {@link #writeTo} must write. */
    TensorInfo info();

    /** Writes exactly {@code info().byteLength()} little-endian bytes. */
    void writeTo(OutputStream out) throws IOException;

    /**
     * Copy granularity: small on the heap, and below 1 MiB on purpose. The JDK's FileOutputStream
     * (local files, S3A's disk buffers) mallocs a native copy of every write above 8 KiB, and under
     * the launchers' {@code MALLOC_MMAP_THRESHOLD_=1048576} a 1 MiB write was a fresh mmap with its
     * page faults every time ({@code bench/run --quick io}: writing ran at 0.42 of {@code cp} with
     * 1 MiB chunks, 0.77-0.81 with 256 KiB).
     */
    int CHUNK = 1 << 18;

    /** A tensor whose bytes (little-endian, exactly the byte length) come from {@code bytes} when needed. */
    static TensorSource of(String name, DType dtype, long[] shape, Supplier<ByteBuffer> bytes) {
        return of(TensorInfo.of(name, dtype, shape), out -> writeBuffer(bytes.get(), out));
    }

    /** Writes a tensor's bytes to a stream. */
    @FunctionalInterface
    interface BytesWriter {
        void writeTo(OutputStream out) throws IOException;
    }

    /** The tensor {@code info} whose bytes {@code writer} writes. */
    static TensorSource of(TensorInfo info, BytesWriter writer) {
        return new TensorSource() {
            @Override
            public TensorInfo info() {
                return info;
            }

            @Override
            public void writeTo(OutputStream out) throws IOException {
                writer.writeTo(out);
            }
        };
    }

    /** Float values stored as {@code dtype} (F32, F16, BF16 or F64; 16-bit formats round to nearest even). */
    static TensorSource ofFloats(String name, long[] shape, float[] values, DType dtype) {
        TensorInfo info = TensorInfo.of(name, dtype, shape);
        if (info.numel() != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "': " + values.length
                    + " values for shape of " + info.numel() + " elements");
        }
        return ofFloats(name, dtype, shape, () -> values);
    }

    /**
     * Float values made when the writer gets to the tensor, stored as {@code dtype}: encoded
     * chunk by chunk into one {@link #CHUNK}-byte buffer, not into a second whole-tensor copy.
     */
    static TensorSource ofFloats(String name, DType dtype, long[] shape, Supplier<float[]> values) {
        TensorInfo info = TensorInfo.of(name, dtype, shape);
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException("tensor '" + name + "': cannot encode floats as " + dtype);
        }
        return of(info, out -> {
            float[] v = values.get();
            if (v.length != info.numel()) {
                throw new IllegalStateException("tensor '" + name + "': " + v.length + " values for shape of "
                        + info.numel() + " elements");
            }
            int per = CHUNK / dtype.byteSize();
            byte[] chunk = new byte[(int) Math.min(CHUNK, Math.max(1, info.byteLength()))];
            ByteBuffer b = ByteBuffer.wrap(chunk);
            for (int from = 0; from < v.length; from += per) {
                int n = Math.min(per, v.length - from);
                b.clear();
                TensorBytes.encode(v, from, n, dtype, b);
                out.write(chunk, 0, n * dtype.byteSize());
            }
        });
    }

    /** Int64 values. */
    static TensorSource ofLongs(String name, long[] shape, long[] values) {
        TensorInfo info = TensorInfo.of(name, DType.I64, shape);
        if (info.numel() != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "': " + values.length
                    + " values for shape of " + info.numel() + " elements");
        }
        return of(name, DType.I64, shape, () -> TensorBytes.fromLongs(values));
    }

    /** A tensor copied unchanged from an open safetensors file, streamed in chunks (any size). */
    static TensorSource copyOf(SafetensorsReader reader, String name) {
        return copyOf(reader, name, name);
    }

    /** As {@link #copyOf(SafetensorsReader, String)}, stored under {@code newName}. */
    static TensorSource copyOf(SafetensorsReader reader, String name, String newName) {
        TensorInfo src = reader.info(name);
        TensorInfo info = TensorInfo.of(newName, src.dtype(), src.shape());
        return of(info, out -> {
            try (InputStream in = reader.openStream(name)) {
                byte[] buf = new byte[(int) Math.min(CHUNK, Math.max(1, info.byteLength()))];
                int n;
                while ((n = in.read(buf, 0, buf.length)) > 0) {
                    out.write(buf, 0, n);
                }
            }
        });
    }

    /** Writes the remaining bytes of {@code b} without disturbing its position. */
    static void writeBuffer(ByteBuffer b, OutputStream out) throws IOException {
        ByteBuffer d = b.duplicate();
        if (d.hasArray()) {
            out.write(d.array(), d.arrayOffset() + d.position(), d.remaining());
            return;
        }
        byte[] buf = new byte[Math.min(CHUNK, d.remaining())];
        while (d.hasRemaining()) {
            int n = Math.min(buf.length, d.remaining());
            d.get(buf, 0, n);
            out.write(buf, 0, n);
        }
    }
}
