package dev.lmcmerge.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Architectures;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.TensorSpec;
import dev.lmcmerge.model.Weights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Random;

/** Tiny random models for the alignment tests (not a test class). */
final class AlignModels {
    private AlignModels() {
    }

    /** A 4-layer gpt_neox (LayerNorm, partial rotary, parallel residual) or llama (GQA 4/2, SwiGLU, full rotary). */
    static Architecture tiny(String family, int layers) {
        String json = switch (family) {
            case "gpt_neox" -> """
                    {"model_type": "gpt_neox", "hidden_size": 16, "num_attention_heads": 4, "num_hidden_layers": %d,
                     "intermediate_size": 32, "vocab_size": 40, "rotary_pct": 0.5, "rotary_emb_base": 10000,
                     "layer_norm_eps": 1e-5, "use_parallel_residual": true, "tie_word_embeddings": false,
                     "max_position_embeddings": 64, "hidden_act": "gelu"}""";
            case "llama" -> """
                    {"model_type": "llama", "hidden_size": 16, "num_attention_heads": 4, "num_key_value_heads": 2,
                     "num_hidden_layers": %d, "intermediate_size": 24, "vocab_size": 40, "rms_norm_eps": 1e-5,
                     "rope_theta": 10000.0, "tie_word_embeddings": false, "max_position_embeddings": 64,
                     "hidden_act": "silu"}""";
            default -> throw new IllegalArgumentException(family);
        };
        try {
            return Architectures.of(ModelConfig.parse(new ObjectMapper().readTree(json.formatted(layers)), "tiny " + family));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Random weights: matrices N(0, 1/fan-in), vectors N(0, 0.1), norm weights around 1, norm biases N(0, 0.1). */
    static Weights random(Architecture arch, long seed, NDManager parent) {
        Random rng = new Random(seed);
        Weights w = new Weights(parent.newSubManager(), "tiny " + arch.config().modelType() + " seed " + seed);
        for (TensorSpec t : arch.tensors()) {
            long[] s = t.shape();
            int n = (int) t.numel();
            float[] v = new float[n];
            boolean norm = t.role() == TensorSpec.Role.NORM;
            double fanIn = s.length >= 2 ? (double) n / s[0] : 1;
            boolean embedding = t.name().contains("embed_in") || t.name().contains("embed_tokens");
            for (int i = 0; i < n; i++) {
                if (norm && t.name().endsWith("weight")) {
                    v[i] = (float) (0.8 + 0.4 * rng.nextDouble());
                } else if (norm || s.length == 1) {
                    v[i] = (float) (0.1 * rng.nextGaussian());
                } else {
                    v[i] = (float) (rng.nextGaussian() * (embedding ? 1.0 : 1 / Math.sqrt(fanIn)));
                }
            }
            w.put(t.name(), w.manager().create(v, new Shape(s)));
        }
        return w;
    }

    /** Random token ids [batch, seq] (int64). */
    static NDArray tokens(Architecture arch, NDManager m, long seed, int batch, int seq) {
        Random rng = new Random(seed);
        long[] ids = new long[batch * seq];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt(arch.config().vocabSize());
        }
        return m.create(ids, new Shape(batch, seq));
    }
}
