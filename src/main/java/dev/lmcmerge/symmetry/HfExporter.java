package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.HfCheckpointWriter;
import dev.lmcmerge.io.ShardPlan;
import dev.lmcmerge.io.TensorBytes;
import dev.lmcmerge.io.TensorSource;
import dev.lmcmerge.model.Family;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.Weights;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * Writes transformed or interpolated canonical weights as a Hugging Face folder of the SAME
 * architecture (DESIGN.md "Exact export to the same architecture"): the original config.json
 * with {@code tie_word_embeddings=false} where the model was tied and, only if a residual scale
 * was used, every norm eps multiplied by c^2 (said on the log stream); every stock tensor name
 * and shape (a tied unembedding now written explicitly), no buffers; tokenizer files copied.
 * Loads with stock {@code transformers}: for LayerNorm families the canonical stream is centered
 * and stays centered under the restricted rotations, so LayerNorm with weight 1 acts as RMSNorm.
 */
public final class HfExporter {
    private final TransformSpec spec;
    private final JsonNode originalConfig;
    private double epsScale = 1.0;
    private DType dtype = DType.F32;
    private List<Path> tokenizerFiles = List.of();
    private boolean overwrite;
    private PrintStream log = System.err;
    private long maxShardBytes = HfCheckpointWriter.DEFAULT_MAX_SHARD_BYTES;

    /**
     * @param spec           the model's bound spec (tensor names and order)
     * @param originalConfig the source checkpoint's config.json
     */
    public HfExporter(TransformSpec spec, JsonNode originalConfig) {
        this.spec = spec;
        this.originalConfig = originalConfig;
    }

    /** The norm eps factor c^2 ({@link Transform#epsScale()}, or interpolated); 1 leaves eps alone. */
    public HfExporter epsScale(double factor) {
        if (!(factor > 0) || Double.isInfinite(factor)) {
            throw new IllegalArgumentException("eps scale must be positive, got " + factor);
        }
        this.epsScale = factor;
        return this;
    }

    /** Stored dtype of the weights: F32 (default), or BF16 / F16 to match a half-precision source. */
    public HfExporter dtype(DType dtype) {
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("export dtype must be F32, BF16 or F16, got " + dtype);
        }
        this.dtype = dtype;
        return this;
    }

    /** Tokenizer files copied next to the weights (e.g. the source's {@code tokenizerFiles()}). */
    public HfExporter tokenizerFiles(List<Path> files) {
        this.tokenizerFiles = List.copyOf(files);
        return this;
    }

    /** Replace an existing output folder. */
    public HfExporter overwrite(boolean overwrite) {
        this.overwrite = overwrite;
        return this;
    }

    /** Where the eps note goes (default stderr). */
    public HfExporter log(PrintStream log) {
        this.log = log;
        return this;
    }

    /** Maximum bytes per safetensors file before sharding. */
    public HfExporter maxShardBytes(long bytes) {
        this.maxShardBytes = bytes;
        return this;
    }

    /** The config.json the export writes. */
    public ObjectNode exportedConfig() {
        ObjectNode cfg = originalConfig.deepCopy();
        if (spec.tiedHead() != null) {
            cfg.put("tie_word_embeddings", false);
        }
        if (epsScale != 1.0) {
            String key = epsKey(spec.family());
            double eps = ModelConfig.parse(originalConfig, "config.json").normEps();
            cfg.put(key, eps * epsScale);
        }
        String torchName = switch (dtype) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> "float32";
        };
        for (String k : List.of("torch_dtype", "dtype")) {
            if (cfg.has(k)) {
                cfg.put(k, torchName);
            }
        }
        if (!cfg.has("torch_dtype") && !cfg.has("dtype")) {
            cfg.put("torch_dtype", torchName);
        }
        return cfg;
    }

    /** The config key holding the norm eps of a family. */
    static String epsKey(String family) {
        if (family.equals(Family.GPT_NEOX.id()) || family.equals(Family.VIT.id())) {
            return "layer_norm_eps";
        }
        if (family.equals(Family.LLAMA.id())) {
            return "rms_norm_eps";
        }
        if (family.equals(Family.GPT2.id())) {
            return "layer_norm_epsilon";
        }
        throw new IllegalArgumentException("no eps key for family " + family);
    }

    /**
     * Writes the folder. {@code weights} must hold every tensor of the spec (buffers are dropped).
     *
     * @param location the output folder (any Hadoop file system)
     * @throws LmcException INVALID_INPUT if a tensor is missing or has the wrong rank
     */
    public ShardPlan write(Weights weights, String location, Configuration conf) {
        List<TensorSource> sources = new ArrayList<>();
        for (TensorRule rule : spec.rules().values()) {
            NDArray a = weights.get(rule.name());
            long[] shape = a.getShape().getShape();
            String name = rule.name();
            sources.add(TensorSource.of(name, dtype, shape,
                    () -> TensorBytes.fromFloats(a.toType(DataType.FLOAT32, false).toFloatArray(), dtype)));
        }
        for (String name : weights.names()) {
            if (spec.rule(name) == null && !TransformSpec.isBuffer(name)) {
                throw LmcException.invalidInput(weights.source(), "tensor " + name + " is not part of the "
                        + spec.family() + " architecture; expected only " + spec.rules().size() + " stock tensors");
            }
        }
        ObjectNode cfg = exportedConfig();
        if (epsScale != 1.0) {
            String key = epsKey(spec.family());
            log.println("lmc: note: residual scaling used: " + key + " in " + location + "/config.json is "
                    + cfg.get(key).asDouble() + " (original eps x " + epsScale + ")");
        }
        return HfCheckpointWriter.to(location, conf).overwrite(overwrite).maxShardBytes(maxShardBytes)
                .tokenizerFiles(tokenizerFiles).write(cfg, sources);
    }
}
