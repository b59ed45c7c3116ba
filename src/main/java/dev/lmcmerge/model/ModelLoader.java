package dev.lmcmerge.model;

import ai.djl.ndarray.NDArray;
import dev.lmcmerge.io.TensorBytes;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.io.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;

/**
 * Reads a Hugging Face checkpoint into float32 {@link Weights}, checked against the
 * configured architecture's {@link TensorSpec} list: every tensor present with its exact shape,
 * every value finite. BF16/F16/F64 weights are converted to float32.
 */
public final class ModelLoader {

    private ModelLoader() {
    }

    /** A loaded model: its config, architecture and weights. Closing it closes the weights. */
    public record LoadedModel(ModelConfig config, Architecture architecture, Weights weights) implements AutoCloseable {
        @Override
        public void close() {
            weights.close();
        }
    }

    /**
     * Parses the config.json of an open checkpoint.
     *
     * @throws LmcException INVALID_INPUT for an unsupported or incomplete config
     */
    public static ModelConfig config(HfCheckpoint ckpt) {
        return ModelConfig.parse(ckpt.config(), ckpt.folder() + "/config.json");
    }

    /**
     * Opens the model folder at {@code location} (any Hadoop file system), parses its config
     * and loads its weights into {@code manager}, which the returned weights then own.
     */
    public static LoadedModel open(String location, NDManager manager) {
        try (HfCheckpoint ckpt = HfCheckpoint.open(location, new Configuration())) {
            ModelConfig cfg = config(ckpt);
            Weights w = load(ckpt, cfg, manager);
            return new LoadedModel(cfg, Architectures.of(cfg), w);
        } catch (IOException e) {
            throw LmcException.invalidInput(location, "cannot close the checkpoint: " + e.getMessage());
        }
    }

    /** As {@link #open(String, NDManager)}, returning only the weights. */
    public static Weights load(String location, NDManager manager) {
        return open(location, manager).weights();
    }

    /**
     * Loads every tensor of {@code cfg}'s architecture from {@code ckpt} into {@code manager}.
     * A tied unembedding absent from the file is the embedding array itself, stored under both
     * names. Tensors of the file that the architecture does not use (such as the buffers
     * {@code attention.bias}, {@code attention.masked_bias}, {@code rotary_emb.inv_freq}) are not read.
     *
     * @throws LmcException INVALID_INPUT naming the tensor for a missing tensor, a shape other
     *                      than expected, an integer dtype, or a NaN / infinite value
     */
    public static Weights load(HfCheckpoint ckpt, ModelConfig cfg, NDManager manager) {
        return load(ckpt, cfg, manager, (name, bytes) -> { });
    }

    /**
     * As {@link #load(HfCheckpoint, ModelConfig, NDManager)}, telling {@code onTensor} each
     * tensor read and its stored bytes (for progress on a billion-parameter load).
     */
    public static Weights load(HfCheckpoint ckpt, ModelConfig cfg, NDManager manager,
                               java.util.function.ObjLongConsumer<String> onTensor) {
        Architecture arch = Architectures.of(cfg);
        String where = ckpt.folder().toString();
        checkPresentAndShaped(ckpt, arch.tensors(), where);
        Weights w = new Weights(manager, where);
        // One off-heap chunk for every tensor of the load (made at the first half-precision tensor:
        // float32 checkpoints never need it): a direct buffer is freed only by a GC, which a load
        // that leaves the heap alone may not see for gigabytes of buffers.
        java.util.function.Supplier<ByteBuffer> chunk = new java.util.function.Supplier<>() {
            private ByteBuffer buffer;

            @Override
            public ByteBuffer get() {
                if (buffer == null) {
                    buffer = ByteBuffer.allocateDirect(4 * CHUNK).order(ByteOrder.nativeOrder());
                }
                return buffer;
            }
        };
        for (TensorSpec spec : arch.tensors()) {
            if (spec.tied() && !ckpt.tensors().containsKey(spec.name())) {
                continue;
            }
            w.put(spec.name(), read(ckpt, spec, manager, where, chunk));
            onTensor.accept(spec.name(), ckpt.tensors().get(spec.name()).byteLength());
        }
        for (TensorSpec spec : arch.tensors()) {
            if (spec.tied() && !w.has(spec.name())) {
                w.put(spec.name(), w.get(spec.tiedTo()));
            }
        }
        return w;
    }

    /**
     * Checks from the headers alone that {@code ckpt} holds every tensor of {@code cfg}'s
     * architecture with its shape and a floating dtype (what {@link #load(HfCheckpoint, ModelConfig, NDManager)}
     * checks first), so a planner that never reads weights still reports a broken checkpoint as such.
     *
     * @throws LmcException INVALID_INPUT naming the folder and the tensor
     */
    public static void checkTensors(HfCheckpoint ckpt, ModelConfig cfg) {
        checkPresentAndShaped(ckpt, Architectures.of(cfg).tensors(), ckpt.folder().toString());
    }

    /** Tensors in the checkpoint that the architecture does not read (buffers and strays). */
    public static List<String> unusedTensors(HfCheckpoint ckpt, ModelConfig cfg) {
        Set<String> used = new HashSet<>();
        for (TensorSpec s : Architectures.of(cfg).tensors()) {
            used.add(s.name());
        }
        List<String> out = new ArrayList<>();
        for (String name : ckpt.tensors().keySet()) {
            if (!used.contains(name)) {
                out.add(name);
            }
        }
        return out;
    }

    /** Checks names and shapes from the headers before reading any data, so a bad file fails fast. */
    private static void checkPresentAndShaped(HfCheckpoint ckpt, List<TensorSpec> specs, String where) {
        for (TensorSpec spec : specs) {
            TensorInfo info = ckpt.tensors().get(spec.name());
            if (info == null) {
                if (spec.tied() && ckpt.tensors().containsKey(spec.tiedTo())) {
                    continue;
                }
                throw LmcException.invalidInput(where, "missing tensor '" + spec.name() + "' (expected shape "
                        + Arrays.toString(spec.shape()) + ")");
            }
            if (!Arrays.equals(info.shape(), spec.shape())) {
                throw LmcException.invalidInput(where, "tensor '" + spec.name() + "' has shape "
                        + Arrays.toString(info.shape()) + "; expected " + Arrays.toString(spec.shape())
                        + " from config.json");
            }
            if (!info.dtype().isFloating()) {
                throw LmcException.invalidInput(where, "tensor '" + spec.name() + "' has dtype "
                        + info.dtype().safetensorsName() + "; expected a floating type (F32, F16, BF16, F64)");
            }
        }
    }

    private static NDArray read(HfCheckpoint ckpt, TensorSpec spec, NDManager manager, String where,
                                java.util.function.Supplier<ByteBuffer> chunk) {
        TensorInfo info = ckpt.tensors().get(spec.name());
        Shape shape = new Shape(spec.shape());
        if (info.dtype() == DType.F32) {
            // Raw little-endian float32 bytes go to libtorch without an intermediate float[].
            ByteBuffer bytes = ckpt.read(spec.name()).order(ByteOrder.LITTLE_ENDIAN);
            checkFinite(bytes.asFloatBuffer(), spec.name(), where);
            return libtorchOwned(manager.create(bytes, shape, DataType.FLOAT32));
        }
        return widened(ckpt.read(spec.name()), info, shape, manager, spec.name(), where, chunk.get());
    }

    /** Elements widened per chunk (16 MiB of float32). */
    private static final int CHUNK = 1 << 22;

    /**
     * A half-precision (or F64) tensor as float32 in libtorch: widened chunk by chunk into
     * {@code chunk} (a direct buffer reused for every tensor of a load) and copied into libtorch, never as a whole float[] on the Java heap
     * (a 0.4 GB embedding of a 1B model would otherwise be a humongous heap array per load).
     */
    static NDArray widened(ByteBuffer raw, TensorInfo info, Shape shape, NDManager manager, String name,
                           String where, ByteBuffer chunk) {
        int n = Math.toIntExact(info.numel());
        int chunkElements = chunk.capacity() / 4;
        NDList parts = new NDList();
        try {
            for (int from = 0; from < n || parts.isEmpty(); from += chunkElements) {
                int count = Math.min(chunkElements, n - from);
                chunk.clear();
                FloatBuffer f = chunk.asFloatBuffer();
                TensorBytes.decodeInto(raw, info.dtype(), from, count, f);
                f.flip();
                checkFinite(f, from, name, where);
                chunk.limit(4 * count);
                parts.add(libtorchOwned(manager.create(chunk, new Shape(count), DataType.FLOAT32)));
            }
            NDArray flat = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts);
            NDArray out = flat.reshape(shape);
            if (parts.size() > 1) {
                parts.close();
            }
            return out;
        } catch (RuntimeException e) {
            parts.close();
            throw e;
        }
    }

    /**
     * A copy in memory libtorch allocated. {@code NDManager.create} wraps the Java buffer
     * ({@code torch::from_blob}), whose address alignment varies between runs, and BLAS kernels
     * may round differently on differently aligned rows; libtorch's allocator aligns to 64 bytes,
     * so results are bit-reproducible run to run (resume must equal an uninterrupted run).
     */
    private static NDArray libtorchOwned(NDArray wrapped) {
        NDArray owned = wrapped.duplicate();
        wrapped.close();
        return owned;
    }

    private static void checkFinite(FloatBuffer values, String name, String where) {
        checkFinite(values, 0, name, where);
    }

    /** {@code values} are the tensor's elements from flat index {@code offset} on. */
    private static void checkFinite(FloatBuffer values, long offset, String name, String where) {
        int n = values.remaining();
        for (int i = 0; i < n; i++) {
            float v = values.get(i);
            if (!Float.isFinite(v)) {
                throw LmcException.invalidInput(where, "tensor '" + name + "' holds " + v + " at flat index "
                        + (offset + i) + "; expected finite weights");
            }
        }
    }
}
