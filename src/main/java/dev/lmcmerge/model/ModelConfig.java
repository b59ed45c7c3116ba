package dev.lmcmerge.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lmcmerge.config.LmcException;
import java.util.List;
import java.util.Locale;

/**
 * The typed, validated view of a Hugging Face {@code config.json} that the model code needs.
 * Immutable. Built by {@link #parse(JsonNode, String)}, which reads both the older config keys
 * ({@code rotary_pct}, {@code rotary_emb_base}, {@code rope_theta}, {@code rope_scaling}) and the
 * {@code rope_parameters} object written by recent transformers versions. Absent optional keys
 * take the transformers defaults of the model type's config class.
 *
 * @param family                 the model family
 * @param modelType              the raw {@code model_type} (gpt_neox, llama, qwen2, mistral, gpt2, vit)
 * @param numLayers              transformer blocks
 * @param hiddenSize             residual width d
 * @param numHeads               query heads
 * @param numKvHeads             key/value heads (GQA groups; = numHeads without GQA)
 * @param headDim                per-head width
 * @param intermediateSize       MLP width
 * @param vocabSize              vocabulary size (0 for ViT)
 * @param numLabels              classifier outputs (ViT; 0 for language models)
 * @param maxPositions           maximum positions (learned position table size for gpt2)
 * @param normEps                epsilon of every LayerNorm / RMSNorm
 * @param rotaryDim              rotated dims per head (0 for gpt2 and vit)
 * @param ropeTheta              RoPE base
 * @param ropeScaling            RoPE frequency rewrite (never null)
 * @param parallelResidual       gpt_neox {@code use_parallel_residual}
 * @param tieWordEmbeddings      unembedding shares the token embedding
 * @param qkvBias                query/key/value projections have biases
 * @param attnOutBias            the attention output projection has a bias
 * @param mlpBias                the MLP projections have biases
 * @param hiddenAct              MLP activation ({@code gelu}, {@code gelu_new}, {@code silu}, ...)
 * @param imageSize              ViT image side (0 for language models)
 * @param patchSize              ViT patch side (0 for language models)
 * @param numChannels            ViT input channels (0 for language models)
 * @param slidingWindow          attention window in tokens (0 = full causal attention)
 * @param slidingWindowFromLayer first layer using the window (qwen2 {@code max_window_layers})
 * @param scaleAttnByInverseLayerIdx gpt2: attention scores also divided by (layer + 1)
 */
public record ModelConfig(
        Family family, String modelType,
        int numLayers, int hiddenSize, int numHeads, int numKvHeads, int headDim, int intermediateSize,
        int vocabSize, int numLabels, int maxPositions, double normEps,
        int rotaryDim, double ropeTheta, RopeScaling ropeScaling,
        boolean parallelResidual, boolean tieWordEmbeddings,
        boolean qkvBias, boolean attnOutBias, boolean mlpBias, String hiddenAct,
        int imageSize, int patchSize, int numChannels,
        int slidingWindow, int slidingWindowFromLayer, boolean scaleAttnByInverseLayerIdx) {

    /** The {@code model_type} values this project reads. */
    public static final List<String> SUPPORTED_MODEL_TYPES = List.of("gpt_neox", "llama", "qwen2", "mistral", "gpt2", "vit");

    /** Activations the MLPs implement ({@code hidden_act} / {@code activation_function}). */
    public static final List<String> SUPPORTED_ACTIVATIONS = List.of(
            "gelu", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "quick_gelu", "relu", "silu", "swish");

    public ModelConfig {
        if (ropeScaling == null) {
            ropeScaling = RopeScaling.NONE;
        }
    }

    /** True for a family whose attention uses rotary position embeddings. */
    public boolean rotary() {
        return rotaryDim > 0;
    }

    /** True if query heads share key/value heads (GQA). */
    public int groupSize() {
        return numHeads / numKvHeads;
    }

    /** Query-attention width {@code numHeads * headDim} (may differ from hiddenSize when head_dim is explicit). */
    public int attentionWidth() {
        return numHeads * headDim;
    }

    /** ViT patches per image. */
    public int numPatches() {
        return patchSize == 0 ? 0 : (imageSize / patchSize) * (imageSize / patchSize);
    }

    /** Size of the output axis: vocabulary for language models, labels for ViT. */
    public int outputSize() {
        return family.causalLm() ? vocabSize : numLabels;
    }

    /** True if block {@code layer} attends within {@link #slidingWindow()} tokens only. */
    public boolean windowed(int layer) {
        return slidingWindow > 0 && layer >= slidingWindowFromLayer;
    }

    /** This config with every norm's epsilon replaced (a residual scale c needs eps -> c^2 eps). */
    public ModelConfig withNormEps(double eps) {
        return new ModelConfig(family, modelType, numLayers, hiddenSize, numHeads, numKvHeads, headDim,
                intermediateSize, vocabSize, numLabels, maxPositions, eps, rotaryDim, ropeTheta, ropeScaling,
                parallelResidual, tieWordEmbeddings, qkvBias, attnOutBias, mlpBias, hiddenAct, imageSize, patchSize,
                numChannels, slidingWindow, slidingWindowFromLayer, scaleAttnByInverseLayerIdx);
    }

    /** This config with {@code tie_word_embeddings} replaced (canonical and exported models are untied). */
    public ModelConfig withTieWordEmbeddings(boolean tied) {
        return new ModelConfig(family, modelType, numLayers, hiddenSize, numHeads, numKvHeads, headDim,
                intermediateSize, vocabSize, numLabels, maxPositions, normEps, rotaryDim, ropeTheta, ropeScaling,
                parallelResidual, tied, qkvBias, attnOutBias, mlpBias, hiddenAct, imageSize, patchSize,
                numChannels, slidingWindow, slidingWindowFromLayer, scaleAttnByInverseLayerIdx);
    }

    /**
     * Reads a {@code config.json}.
     *
     * @param json  the parsed file
     * @param where the file's location, used in every error message
     * @throws LmcException INVALID_INPUT naming {@code where} and the key for an unsupported
     *                      {@code model_type}, a missing required key or a value out of range
     */
    public static ModelConfig parse(JsonNode json, String where) {
        if (json == null || !json.isObject()) {
            throw LmcException.invalidInput(where, "expected a JSON object (a Hugging Face config.json)");
        }
        Keys k = new Keys(json, where);
        String modelType = k.string("model_type", null);
        if (modelType == null) {
            throw LmcException.invalidInput(where, "missing key 'model_type'; expected one of " + SUPPORTED_MODEL_TYPES);
        }
        ModelConfig cfg = switch (modelType) {
            case "gpt_neox" -> gptNeox(k, modelType);
            case "llama", "qwen2", "mistral" -> llama(k, modelType);
            case "gpt2" -> gpt2(k, modelType);
            case "vit" -> vit(k, modelType);
            default -> throw LmcException.invalidInput(where, "unsupported model_type '" + modelType
                    + "'; supported: " + String.join(", ", SUPPORTED_MODEL_TYPES));
        };
        cfg.validate(where);
        return cfg;
    }

    private static ModelConfig gptNeox(Keys k, String modelType) {
        int d = k.requiredInt("hidden_size");
        int heads = k.requiredInt("num_attention_heads");
        int headDim = k.divide(d, heads, "hidden_size", "num_attention_heads");
        JsonNode rope = k.ropeParameters();
        double pct = k.doubleIn(rope, "partial_rotary_factor",
                k.doubleOr("rotary_pct", k.doubleOr("partial_rotary_factor", 0.25)));
        double theta = k.doubleIn(rope, "rope_theta",
                k.doubleOr("rotary_emb_base", k.doubleOr("rope_theta", 10000.0)));
        int rotaryDim = (int) (headDim * pct); // transformers: int(head_size * rotary_pct)
        boolean bias = k.bool("attention_bias", true);
        String act = k.activation("hidden_act", "gelu");
        return new ModelConfig(Family.GPT_NEOX, modelType,
                k.requiredInt("num_hidden_layers"), d, heads, heads, headDim, k.requiredInt("intermediate_size"),
                k.requiredInt("vocab_size"), 0, k.intOr("max_position_embeddings", 2048),
                k.doubleOr("layer_norm_eps", 1e-5), rotaryDim, theta, k.ropeScaling(rope),
                k.bool("use_parallel_residual", true), k.bool("tie_word_embeddings", false),
                bias, bias, true, act, 0, 0, 0, 0, 0, false);
    }

    private static ModelConfig llama(Keys k, String modelType) {
        int d = k.requiredInt("hidden_size");
        int heads = k.requiredInt("num_attention_heads");
        int kv = k.intOr("num_key_value_heads", heads);
        int headDim = k.has("head_dim") ? k.requiredInt("head_dim") : k.divide(d, heads, "hidden_size", "num_attention_heads");
        JsonNode rope = k.ropeParameters();
        double theta = k.doubleIn(rope, "rope_theta", k.doubleOr("rope_theta", 10000.0));
        double partial = k.doubleIn(rope, "partial_rotary_factor", k.doubleOr("partial_rotary_factor", 1.0));
        if (partial != 1.0) {
            throw LmcException.invalidInput(k.where, "partial_rotary_factor " + partial
                    + " is not supported for model_type " + modelType + "; expected 1.0 (RoPE over the full head_dim)");
        }
        boolean qkvBias;
        boolean outBias;
        boolean mlpBias;
        int window = 0;
        int windowFrom = 0;
        int defaultPositions;
        double defaultEps;
        boolean defaultTie = false;
        switch (modelType) {
            case "qwen2" -> {
                // Qwen2Attention: q/k/v always have biases, o_proj never.
                qkvBias = true;
                outBias = false;
                mlpBias = false;
                defaultPositions = 32768;
                defaultEps = 1e-6;
                if (k.bool("use_sliding_window", false)) {
                    window = k.intOr("sliding_window", 4096);
                    windowFrom = k.intOr("max_window_layers", 28);
                }
            }
            case "mistral" -> {
                qkvBias = false;
                outBias = false;
                mlpBias = false;
                defaultPositions = 4096 * 32;
                defaultEps = 1e-6;
                // MistralConfig default 4096; an explicit null turns the window off.
                window = k.json.has("sliding_window") ? k.intOr("sliding_window", 0) : 4096;
            }
            default -> {
                boolean b = k.bool("attention_bias", false);
                qkvBias = b;
                outBias = b;
                mlpBias = k.bool("mlp_bias", false);
                defaultPositions = 2048;
                defaultEps = 1e-6;
            }
        }
        return new ModelConfig(Family.LLAMA, modelType,
                k.requiredInt("num_hidden_layers"), d, heads, kv, headDim, k.requiredInt("intermediate_size"),
                k.requiredInt("vocab_size"), 0, k.intOr("max_position_embeddings", defaultPositions),
                k.doubleOr("rms_norm_eps", defaultEps), headDim, theta, k.ropeScaling(rope),
                false, k.bool("tie_word_embeddings", defaultTie),
                qkvBias, outBias, mlpBias, k.activation("hidden_act", "silu"), 0, 0, 0, window, windowFrom, false);
    }

    private static ModelConfig gpt2(Keys k, String modelType) {
        int d = k.requiredIntAlias("n_embd", "hidden_size");
        int heads = k.requiredIntAlias("n_head", "num_attention_heads");
        int headDim = k.divide(d, heads, "n_embd", "n_head");
        int inner = k.has("n_inner") ? k.requiredInt("n_inner") : 4 * d;
        if (!k.bool("scale_attn_weights", true)) {
            throw LmcException.invalidInput(k.where, "scale_attn_weights=false is not supported; expected true");
        }
        return new ModelConfig(Family.GPT2, modelType,
                k.requiredIntAlias("n_layer", "num_hidden_layers"), d, heads, heads, headDim, inner,
                k.requiredInt("vocab_size"), 0, k.has("n_positions") ? k.requiredInt("n_positions")
                        : k.intOr("max_position_embeddings", 1024),
                k.doubleOr("layer_norm_epsilon", 1e-5), 0, 0, RopeScaling.NONE,
                false, k.bool("tie_word_embeddings", true), true, true, true,
                k.activation("activation_function", "gelu_new"), 0, 0, 0, 0, 0,
                k.bool("scale_attn_by_inverse_layer_idx", false));
    }

    private static ModelConfig vit(Keys k, String modelType) {
        int d = k.requiredInt("hidden_size");
        int heads = k.requiredInt("num_attention_heads");
        int headDim = k.divide(d, heads, "hidden_size", "num_attention_heads");
        int labels;
        if (k.has("id2label") && k.json.get("id2label").isObject()) {
            labels = k.json.get("id2label").size();
        } else {
            labels = k.intOr("num_labels", 2); // PretrainedConfig default
        }
        int image = k.requiredInt("image_size");
        int patch = k.requiredInt("patch_size");
        if (patch <= 0 || image % patch != 0) {
            throw LmcException.invalidInput(k.where, "image_size " + image + " is not a multiple of patch_size " + patch);
        }
        if (k.bool("use_mask_token", false)) {
            throw LmcException.invalidInput(k.where, "use_mask_token=true is not supported; expected false");
        }
        boolean qkvBias = k.bool("qkv_bias", true);
        return new ModelConfig(Family.VIT, modelType,
                k.requiredInt("num_hidden_layers"), d, heads, heads, headDim, k.requiredInt("intermediate_size"),
                0, labels, 0, k.doubleOr("layer_norm_eps", 1e-12), 0, 0, RopeScaling.NONE,
                false, false, qkvBias, true, true, k.activation("hidden_act", "gelu"),
                image, patch, k.intOr("num_channels", 3), 0, 0, false);
    }

    private void validate(String where) {
        positive(where, "number of layers", numLayers);
        positive(where, "hidden size", hiddenSize);
        positive(where, "number of attention heads", numHeads);
        positive(where, "number of key/value heads", numKvHeads);
        positive(where, "head dimension", headDim);
        positive(where, "intermediate size", intermediateSize);
        positive(where, "output size (vocab_size or labels)", outputSize());
        // Far above any published model, far below what would make the tensor table itself a
        // denial of service (the fuzzer's config of 9.7 million layers took minutes to tabulate).
        atMost(where, "number of layers", numLayers, MAX_LAYERS);
        atMost(where, "hidden size", hiddenSize, MAX_WIDTH);
        atMost(where, "number of attention heads", numHeads, MAX_WIDTH);
        atMost(where, "head dimension", headDim, MAX_WIDTH);
        atMost(where, "intermediate size", intermediateSize, MAX_WIDTH);
        atMost(where, "output size (vocab_size or labels)", outputSize(), MAX_OUTPUTS);
        if (numHeads % numKvHeads != 0) {
            throw LmcException.invalidInput(where, "num_attention_heads " + numHeads
                    + " is not a multiple of num_key_value_heads " + numKvHeads);
        }
        if (rotaryDim % 2 != 0 || rotaryDim > headDim || rotaryDim < 0) {
            throw LmcException.invalidInput(where, "rotary dimensions " + rotaryDim + " per head (head_dim " + headDim
                    + ") must be even and at most head_dim; check rotary_pct / partial_rotary_factor");
        }
        if (!(normEps > 0) || Double.isInfinite(normEps)) {
            throw LmcException.invalidInput(where, "norm epsilon " + normEps + " must be a positive number");
        }
        if (rotary() && !(ropeTheta > 0)) {
            throw LmcException.invalidInput(where, "rope theta " + ropeTheta + " must be positive");
        }
        if (family == Family.GPT2 || family == Family.GPT_NEOX || family == Family.VIT) {
            if (numHeads * headDim != hiddenSize) {
                throw LmcException.invalidInput(where, "hidden size " + hiddenSize + " != heads " + numHeads + " x head_dim " + headDim);
            }
        }
        if (family == Family.GPT2) {
            positive(where, "n_positions", maxPositions);
        }
        if (family == Family.VIT) {
            positive(where, "num_channels", numChannels);
        }
    }

    /** Largest accepted {@code num_hidden_layers}. */
    public static final int MAX_LAYERS = 4096;
    /** Largest accepted hidden size, head count, head dimension and intermediate size. */
    public static final int MAX_WIDTH = 1 << 20;
    /** Largest accepted vocabulary (or label) count. */
    public static final int MAX_OUTPUTS = 1 << 24;

    private static void atMost(String where, String what, int v, int max) {
        if (v > max) {
            throw LmcException.invalidInput(where, what + " is " + v + "; at most " + max
                    + " is accepted (larger than any supported model: is the config corrupt?)");
        }
    }

    private static void positive(String where, String what, int v) {
        if (v <= 0) {
            throw LmcException.invalidInput(where, what + " is " + v + "; expected a positive integer");
        }
    }

    /** Typed reads from one config.json, every failure naming the file and the key. */
    private static final class Keys {
        final JsonNode json;
        final String where;

        Keys(JsonNode json, String where) {
            this.json = json;
            this.where = where;
        }

        boolean has(String key) {
            JsonNode v = json.get(key);
            return v != null && !v.isNull();
        }

        int requiredInt(String key) {
            if (!has(key)) {
                throw LmcException.invalidInput(where, "missing required key '" + key + "' (an integer) for model_type "
                        + json.path("model_type").asText());
            }
            return toInt(json.get(key), key);
        }

        int requiredIntAlias(String key, String alias) {
            if (!has(key) && has(alias)) {
                return requiredInt(alias);
            }
            return requiredInt(key);
        }

        int intOr(String key, int dflt) {
            return has(key) ? toInt(json.get(key), key) : dflt;
        }

        int toInt(JsonNode v, String key) {
            if (!v.isNumber() || !v.canConvertToExactIntegral() || !v.canConvertToInt()) {
                throw LmcException.invalidInput(where, "key '" + key + "' is " + v + "; expected an integer");
            }
            return v.asInt();
        }

        double doubleOr(String key, double dflt) {
            return has(key) ? toDouble(json.get(key), key) : dflt;
        }

        double toDouble(JsonNode v, String key) {
            if (!v.isNumber()) {
                throw LmcException.invalidInput(where, "key '" + key + "' is " + v + "; expected a number");
            }
            return v.asDouble();
        }

        /** A number inside an object such as rope_parameters, or {@code dflt} when absent. */
        double doubleIn(JsonNode obj, String key, double dflt) {
            if (obj == null || !obj.has(key) || obj.get(key).isNull()) {
                return dflt;
            }
            return toDouble(obj.get(key), "rope_parameters." + key);
        }

        boolean bool(String key, boolean dflt) {
            if (!has(key)) {
                return dflt;
            }
            JsonNode v = json.get(key);
            if (!v.isBoolean()) {
                throw LmcException.invalidInput(where, "key '" + key + "' is " + v + "; expected true or false");
            }
            return v.asBoolean();
        }

        String string(String key, String dflt) {
            if (!has(key)) {
                return dflt;
            }
            JsonNode v = json.get(key);
            if (!v.isTextual()) {
                throw LmcException.invalidInput(where, "key '" + key + "' is " + v + "; expected a string");
            }
            return v.asText();
        }

        String activation(String key, String dflt) {
            String act = string(key, dflt).toLowerCase(Locale.ROOT);
            if (!SUPPORTED_ACTIVATIONS.contains(act)) {
                throw LmcException.invalidInput(where, "key '" + key + "' is '" + act + "'; supported: "
                        + String.join(", ", SUPPORTED_ACTIVATIONS));
            }
            return act;
        }

        int divide(int d, int heads, String dKey, String headsKey) {
            if (heads <= 0 || d % heads != 0) {
                throw LmcException.invalidInput(where, dKey + " " + d + " is not a multiple of " + headsKey + " " + heads);
            }
            return d / heads;
        }

        /**
         * The {@code rope_parameters} object of recent transformers, or null. Configs with one
         * entry per attention type keep the full-attention one.
         */
        JsonNode ropeParameters() {
            JsonNode rp = json.get("rope_parameters");
            if (rp == null || rp.isNull()) {
                return null;
            }
            if (!rp.isObject()) {
                throw LmcException.invalidInput(where, "key 'rope_parameters' is " + rp + "; expected an object");
            }
            if (rp.has("full_attention") && rp.get("full_attention").isObject()) {
                return rp.get("full_attention");
            }
            return rp;
        }

        /** Scaling from rope_parameters (preferred) or the older rope_scaling object. */
        RopeScaling ropeScaling(JsonNode ropeParameters) {
            JsonNode src = ropeParameters;
            String key = "rope_parameters";
            if (src == null || !(src.has("rope_type") || src.has("type"))) {
                JsonNode rs = json.get("rope_scaling");
                if (rs == null || rs.isNull()) {
                    return RopeScaling.NONE;
                }
                if (!rs.isObject()) {
                    throw LmcException.invalidInput(where, "key 'rope_scaling' is " + rs + "; expected an object or null");
                }
                src = rs;
                key = "rope_scaling";
            }
            JsonNode typeNode = src.has("rope_type") ? src.get("rope_type") : src.get("type");
            String type = typeNode == null || typeNode.isNull() ? RopeScaling.DEFAULT : typeNode.asText();
            switch (type) {
                case RopeScaling.DEFAULT:
                    return RopeScaling.NONE;
                case RopeScaling.LINEAR:
                    return RopeScaling.linear(positiveIn(src, key, "factor"));
                case RopeScaling.LLAMA3: {
                    double factor = positiveIn(src, key, "factor");
                    double low = positiveIn(src, key, "low_freq_factor");
                    double high = positiveIn(src, key, "high_freq_factor");
                    double orig = positiveIn(src, key, "original_max_position_embeddings");
                    if (high <= low) {
                        throw LmcException.invalidInput(where, key + ".high_freq_factor " + high
                                + " must be greater than low_freq_factor " + low);
                    }
                    return RopeScaling.llama3(factor, low, high, (int) orig);
                }
                default:
                    throw LmcException.invalidInput(where, key + " type '" + type
                            + "' is not supported; supported: default, linear, llama3");
            }
        }

        private double positiveIn(JsonNode obj, String objKey, String key) {
            JsonNode v = obj.get(key);
            if (v == null || v.isNull()) {
                throw LmcException.invalidInput(where, "missing required key '" + objKey + "." + key + "'");
            }
            double x = toDouble(v, objKey + "." + key);
            if (!(x > 0)) {
                throw LmcException.invalidInput(where, "key '" + objKey + "." + key + "' is " + x + "; expected a positive number");
            }
            return x;
        }
    }
}
