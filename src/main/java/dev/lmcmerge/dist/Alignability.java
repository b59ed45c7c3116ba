package dev.lmcmerge.dist;

import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.io.TensorInfo;
import dev.lmcmerge.model.ModelConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Whether two checkpoints can be aligned at all: the same family and model type, the same
 * architecture-defining configuration, and the same tensors with the same shapes. Decided from
 * {@code config.json} and the safetensors headers only. Dtypes may differ: weights are computed
 * in float32 either way.
 */
public final class Alignability {
    private Alignability() {}

    /** A configuration field that must agree, by its config.json name. */
    private record Field(String key, Function<ModelConfig, Object> value) {}

    /** Fields that change the function or the shapes of a model; anything else (e.g. max positions) may differ. */
    private static final List<Field> FIELDS = List.of(
            new Field("model_type", ModelConfig::modelType),
            new Field("num_hidden_layers", ModelConfig::numLayers),
            new Field("hidden_size", ModelConfig::hiddenSize),
            new Field("num_attention_heads", ModelConfig::numHeads),
            new Field("num_key_value_heads", ModelConfig::numKvHeads),
            new Field("head_dim", ModelConfig::headDim),
            new Field("intermediate_size", ModelConfig::intermediateSize),
            new Field("vocab_size", ModelConfig::vocabSize),
            new Field("num_labels", ModelConfig::numLabels),
            new Field("rotary dimensions (rotary_pct / partial_rotary_factor)", ModelConfig::rotaryDim),
            new Field("rope_theta", ModelConfig::ropeTheta),
            new Field("rope_scaling", ModelConfig::ropeScaling),
            new Field("use_parallel_residual", ModelConfig::parallelResidual),
            new Field("hidden_act", ModelConfig::hiddenAct),
            new Field("layer norm epsilon", ModelConfig::normEps),
            new Field("attention/MLP biases", c -> List.of(c.qkvBias(), c.attnOutBias(), c.mlpBias())),
            new Field("image_size", ModelConfig::imageSize),
            new Field("patch_size", ModelConfig::patchSize),
            new Field("num_channels", ModelConfig::numChannels),
            new Field("sliding_window", c -> List.of(c.slidingWindow(), c.slidingWindowFromLayer())),
            new Field("scale_attn_by_inverse_layer_idx", ModelConfig::scaleAttnByInverseLayerIdx));

    /**
     * Checks that {@code a} and {@code b} can be aligned.
     *
     * @throws LmcException INCOMPATIBLE_MODELS (exit 4) naming both folders and the first difference
     */
    public static void check(HfCheckpoint a, ModelConfig ca, HfCheckpoint b, ModelConfig cb) {
        String where = "model A (" + a.folder() + ") and model B (" + b.folder() + ")";
        if (ca.family() != cb.family()) {
            throw LmcException.incompatible(where + " are of different families: " + ca.family().id() + " and "
                    + cb.family().id() + "; only models of one architecture can be aligned");
        }
        for (Field f : FIELDS) {
            Object va = f.value().apply(ca);
            Object vb = f.value().apply(cb);
            if (!Objects.equals(va, vb)) {
                throw LmcException.incompatible(where + " differ in config.json " + f.key() + ": " + va + " vs "
                        + vb + "; expected the same architecture");
            }
        }
        Map<String, TensorInfo> ta = a.tensors();
        Map<String, TensorInfo> tb = b.tensors();
        for (TensorInfo t : ta.values()) {
            TensorInfo u = tb.get(t.name());
            if (u == null) {
                throw LmcException.incompatible(where + ": tensor '" + t.name() + "' of model A is missing from"
                        + " model B; expected the same tensors in both");
            }
            if (!Arrays.equals(t.shape(), u.shape())) {
                throw LmcException.incompatible(where + ": tensor '" + t.name() + "' has shape "
                        + Arrays.toString(t.shape()) + " in model A but " + Arrays.toString(u.shape())
                        + " in model B; expected the same shapes");
            }
        }
        for (String name : tb.keySet()) {
            if (!ta.containsKey(name)) {
                throw LmcException.incompatible(where + ": tensor '" + name + "' of model B is missing from"
                        + " model A; expected the same tensors in both");
            }
        }
    }
}
