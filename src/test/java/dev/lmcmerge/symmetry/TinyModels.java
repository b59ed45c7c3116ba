package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.io.HfCheckpointWriter;
import dev.lmcmerge.io.TensorSource;
import dev.lmcmerge.model.ModelLoader;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Architectures;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.TensorSpec;
import dev.lmcmerge.model.Weights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * Test models: tiny random ones per family (random norm weights and biases, so folding is
 * exercised) and the reference checkpoints of ../shared/reference-cases (not a test class).
 */
final class TinyModels {
    static final List<String> FAMILIES = List.of("gpt_neox", "llama", "gpt2", "vit");
    private static final ObjectMapper JSON = new ObjectMapper();

    private TinyModels() {
    }

    /** A tiny config.json per family: d 32, 4 heads (llama: 2 KV heads), 2 layers; gpt_neox partial rotary. */
    static JsonNode configJson(String family) {
        String s = switch (family) {
            case "gpt_neox" -> """
                    {"model_type": "gpt_neox", "architectures": ["GPTNeoXForCausalLM"], "hidden_size": 32,
                     "num_attention_heads": 4, "num_hidden_layers": 2, "intermediate_size": 64, "vocab_size": 50,
                     "rotary_pct": 0.5, "rotary_emb_base": 10000, "layer_norm_eps": 1e-5,
                     "use_parallel_residual": true, "tie_word_embeddings": false, "max_position_embeddings": 64,
                     "hidden_act": "gelu"}""";
            case "gpt_neox_sequential" -> """
                    {"model_type": "gpt_neox", "architectures": ["GPTNeoXForCausalLM"], "hidden_size": 32,
                     "num_attention_heads": 4, "num_hidden_layers": 2, "intermediate_size": 64, "vocab_size": 50,
                     "rotary_pct": 0.25, "layer_norm_eps": 1e-5, "use_parallel_residual": false,
                     "tie_word_embeddings": true, "max_position_embeddings": 64, "hidden_act": "gelu"}""";
            case "gpt_neox_nobias" -> """
                    {"model_type": "gpt_neox", "architectures": ["GPTNeoXForCausalLM"], "hidden_size": 32,
                     "num_attention_heads": 2, "num_hidden_layers": 2, "intermediate_size": 64, "vocab_size": 50,
                     "rotary_pct": 1.0, "layer_norm_eps": 1e-5, "use_parallel_residual": true,
                     "attention_bias": false, "max_position_embeddings": 64, "hidden_act": "gelu"}""";
            case "llama" -> """
                    {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 32,
                     "num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": 2,
                     "intermediate_size": 48, "vocab_size": 50, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
                     "tie_word_embeddings": false, "max_position_embeddings": 64, "hidden_act": "silu"}""";
            case "qwen2" -> """
                    {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "hidden_size": 32,
                     "num_attention_heads": 4, "num_key_value_heads": 1, "num_hidden_layers": 2,
                     "intermediate_size": 48, "vocab_size": 50, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
                     "tie_word_embeddings": true, "max_position_embeddings": 64, "hidden_act": "silu"}""";
            case "gpt2" -> """
                    {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_embd": 32, "n_head": 4,
                     "n_layer": 2, "n_positions": 16, "vocab_size": 50, "layer_norm_epsilon": 1e-5,
                     "activation_function": "gelu_new"}""";
            case "vit" -> """
                    {"model_type": "vit", "architectures": ["ViTForImageClassification"], "hidden_size": 32,
                     "num_attention_heads": 4, "num_hidden_layers": 2, "intermediate_size": 64, "image_size": 16,
                     "patch_size": 8, "num_channels": 3, "layer_norm_eps": 1e-12, "qkv_bias": true,
                     "hidden_act": "gelu", "id2label": {"0": "a", "1": "b", "2": "c", "3": "d", "4": "e"}}""";
            default -> throw new IllegalArgumentException(family);
        };
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Architecture tinyArchitecture(String family) {
        return Architectures.of(ModelConfig.parse(configJson(family), "tiny " + family));
    }

    /**
     * Random weights for every stored tensor: matrices N(0, 1/sqrt(fan-in)) so activations stay of
     * order 1, biases N(0, 0.1), norm weights uniform in [0.5, 1.5] (some negative), norm biases N(0, 0.2).
     */
    static Weights randomWeights(Architecture arch, long seed, NDManager parent) {
        Random rng = new Random(seed);
        Weights w = new Weights(parent.newSubManager(), "tiny " + arch.config().modelType() + " seed " + seed);
        for (TensorSpec t : arch.tensors()) {
            if (t.tied()) {
                w.put(t.name(), w.get(t.tiedTo())); // as the loader does: one array under both names
                continue;
            }
            long[] s = t.shape();
            int n = (int) t.numel();
            float[] v = new float[n];
            boolean isNorm = t.role() == TensorSpec.Role.NORM;
            boolean isVector = s.length == 1;
            double fanIn = s.length >= 2 ? (double) n / s[0] : 1;
            if (t.name().endsWith("c_attn.weight") || t.name().endsWith("c_fc.weight") || t.name().endsWith("c_proj.weight")) {
                fanIn = s[0]; // Conv1D [in, out]
            }
            if (t.name().contains("embed") || t.name().endsWith("wte.weight") || t.name().endsWith("wpe.weight")
                    || t.name().endsWith("cls_token")) {
                fanIn = 1;
            }
            for (int i = 0; i < n; i++) {
                if (isNorm && t.name().endsWith("weight")) {
                    v[i] = (float) ((rng.nextBoolean() ? 1 : -1) * (0.5 + rng.nextDouble()));
                    if (i % 7 != 0) {
                        v[i] = Math.abs(v[i]);
                    }
                } else if (isNorm) {
                    v[i] = (float) (0.2 * rng.nextGaussian());
                } else if (isVector) {
                    v[i] = (float) (0.1 * rng.nextGaussian());
                } else {
                    v[i] = (float) (rng.nextGaussian() / Math.sqrt(fanIn) * (fanIn == 1 ? 0.5 : 1));
                }
            }
            w.put(t.name(), w.manager().create(v, new Shape(s)));
        }
        return w;
    }

    /** Token ids [2, 8] (int64) for language models, pixel values [2, C, H, W] for ViT. */
    static NDArray input(Architecture arch, NDManager m, long seed) {
        Random rng = new Random(seed);
        ModelConfig c = arch.config();
        if (c.family().causalLm()) {
            long[] ids = new long[16];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = rng.nextInt(c.vocabSize());
            }
            return m.create(ids, new Shape(2, 8));
        }
        int n = 2 * c.numChannels() * c.imageSize() * c.imageSize();
        float[] px = new float[n];
        for (int i = 0; i < n; i++) {
            px[i] = (float) rng.nextGaussian();
        }
        return m.create(px, new Shape(2, c.numChannels(), c.imageSize(), c.imageSize()));
    }

    static String referenceFolder(String family) {
        return System.getProperty("lmc.shared.dir") + "/reference-cases/models/" + family;
    }

    /** A model folder read by the project's loader (a tied unembedding is the embedding array under both names). */
    static Loaded loadFolder(String folder, NDManager parent) {
        ModelLoader.LoadedModel m = ModelLoader.open(folder, parent.newSubManager());
        try (HfCheckpoint ckpt = HfCheckpoint.open(folder, new Configuration())) {
            return new Loaded(m.architecture(), m.weights(), ckpt.config());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes weights as a stock Hugging Face folder (tied tensors left out, as transformers does). */
    static void writeFolder(Architecture arch, Weights w, JsonNode config, String folder, List<Path> tokenizerFiles) {
        List<TensorSource> sources = new ArrayList<>();
        for (TensorSpec t : arch.tensors()) {
            if (!t.tied()) {
                sources.add(TensorSource.ofFloats(t.name(), t.shape(), w.get(t.name()).toFloatArray(), DType.F32));
            }
        }
        HfCheckpointWriter.to(folder, new Configuration()).tokenizerFiles(tokenizerFiles).write(config, sources);
    }

    record Loaded(Architecture arch, Weights weights, JsonNode config) {
    }

    static double maxAbsDiff(NDArray a, NDArray b) {
        return a.toType(DataType.FLOAT64, false).sub(b.toType(DataType.FLOAT64, false)).abs().max().getDouble();
    }
}
