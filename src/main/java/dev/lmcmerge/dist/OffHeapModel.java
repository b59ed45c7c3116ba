package dev.lmcmerge.dist;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.model.Weights;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.arrow.memory.ArrowBuf;

/**
 * One model's float32 tensors packed into a single Apache Arrow buffer. The buffer is allocated
 * from the executor cache's allocator, so its bytes count against {@code lmc.compute.cache-size};
 * DJL sees the tensors through {@link #view} without a copy (libtorch wraps the memory in place).
 */
final class OffHeapModel implements AutoCloseable {
    /** Where a tensor lives in the buffer. */
    private record Slice(long offset, long[] shape, long bytes) {}

    private final ArrowBuf buf;
    private final String source;
    private final Map<String, Slice> tensors;

    private OffHeapModel(ArrowBuf buf, String source, Map<String, Slice> tensors) {
        this.buf = buf;
        this.source = source;
        this.tensors = tensors;
    }

    /** Bytes needed for float32 tensors of these shapes. */
    static long bytesFor(Map<String, long[]> shapes) {
        long n = 0;
        for (long[] s : shapes.values()) {
            n += 4 * numel(s);
        }
        return n;
    }

    /**
     * Copies every tensor of {@code w} (as float32) into {@code buf}, which must hold
     * {@link #bytesFor} of their shapes, and takes ownership of {@code buf}. Each array of
     * {@code w} is closed once copied (the last time it appears, for an array under two names),
     * so the loader's copy shrinks while the cached one grows instead of both being whole at once.
     */
    static OffHeapModel copyOf(Weights w, ArrowBuf buf) {
        Builder b = new Builder(buf);
        Map<NDArray, Integer> uses = new java.util.IdentityHashMap<>();
        for (NDArray a : w.asMap().values()) {
            uses.merge(a, 1, Integer::sum);
        }
        for (Map.Entry<String, NDArray> e : w.asMap().entrySet()) {
            NDArray a = e.getValue();
            b.put(e.getKey(), a);
            if (uses.merge(a, -1, Integer::sum) == 0) {
                a.close();
            }
        }
        return b.build(w.source());
    }

    /**
     * Fills a buffer tensor by tensor, so a model can be cached as it is made (one part at a
     * time) instead of being whole in libtorch first.
     */
    static final class Builder {
        private final ArrowBuf buf;
        private final Map<String, Slice> tensors = new LinkedHashMap<>();
        private long offset;

        Builder(ArrowBuf buf) {
            this.buf = buf;
        }

        /** Copies {@code a} (as float32) after the tensors put so far. */
        void put(String name, NDArray a) {
            NDArray f = a.getDataType() == DataType.FLOAT32 ? a : a.toType(DataType.FLOAT32, false);
            long bytes = 4 * f.getShape().size();
            if (bytes > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("tensor '" + name + "' has " + bytes
                        + " bytes; one tensor above 2 GiB cannot be handed to libtorch from a Java buffer");
            }
            if (offset + bytes > buf.capacity()) {
                throw new IllegalStateException("tensor '" + name + "' does not fit: " + (offset + bytes)
                        + " bytes of a " + buf.capacity() + "-byte buffer");
            }
            // The tensor's own memory (direct), not toByteBuffer()'s heap copy: a 0.4 GB embedding
            // would otherwise pass through a humongous byte[] on every cache fill.
            ByteBuffer src = f.toByteBuffer(true).order(ByteOrder.nativeOrder());
            buf.setBytes(offset, src);
            tensors.put(name, new Slice(offset, f.getShape().getShape(), bytes));
            if (f != a) {
                f.close();
            }
            offset += bytes;
        }

        /** Bytes put so far. */
        long bytes() {
            return offset;
        }

        /** The model; it owns the buffer from now on. */
        OffHeapModel build(String source) {
            return new OffHeapModel(buf, source, Collections.unmodifiableMap(tensors));
        }
    }

    /**
     * The tensors as DJL arrays in {@code manager}, sharing this buffer's memory. The arrays are
     * only valid while this model is open; closing {@code manager} frees the arrays, not the memory.
     */
    Weights view(NDManager manager) {
        Weights w = new Weights(manager, source);
        for (Map.Entry<String, Slice> e : tensors.entrySet()) {
            Slice s = e.getValue();
            ByteBuffer bb = buf.nioBuffer(s.offset, (int) s.bytes).order(ByteOrder.nativeOrder());
            w.put(e.getKey(), manager.create(bb, new Shape(s.shape), DataType.FLOAT32));
        }
        return w;
    }

    /** Bytes held. */
    long bytes() {
        return buf.capacity();
    }

    /** Tensor names in model order. */
    java.util.Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public void close() {
        buf.close();
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
