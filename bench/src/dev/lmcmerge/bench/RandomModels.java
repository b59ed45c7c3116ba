package dev.lmcmerge.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Architectures;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.TensorSpec;
import dev.lmcmerge.model.Weights;

/** Random-weight models at the shapes the benchmarks name (weights N(0, 0.02), norms 1 and 0). */
final class RandomModels {
    private RandomModels() {
    }

    /** A GPT-NeoX (Pythia) config.json. */
    static ObjectNode pythiaConfig(int d, int layers, int heads, int ffn, int vocab) {
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.put("model_type", "gpt_neox");
        c.put("hidden_size", d);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("intermediate_size", ffn);
        c.put("vocab_size", vocab);
        c.put("rotary_pct", 0.25);
        c.put("rotary_emb_base", 10000);
        c.put("max_position_embeddings", 2048);
        c.put("layer_norm_eps", 1e-5);
        c.put("use_parallel_residual", true);
        c.put("hidden_act", "gelu");
        c.put("tie_word_embeddings", false);
        return c;
    }

    /** Pythia-160M: d 768, 12 layers, 12 heads, FFN 3072, vocab 50304. */
    static ModelConfig pythia160m() {
        return ModelConfig.parse(pythiaConfig(768, 12, 12, 3072, 50304), "bench:pythia-160m");
    }

    /** Pythia-410M: d 1024, 24 layers, 16 heads, FFN 4096, vocab 50304. */
    static ModelConfig pythia410m() {
        return ModelConfig.parse(pythiaConfig(1024, 24, 16, 4096, 50304), "bench:pythia-410m");
    }

    /** Pythia-1B: d 2048, 16 layers, 8 heads, FFN 8192, vocab 50304. */
    static ModelConfig pythia1b() {
        return ModelConfig.parse(pythiaConfig(2048, 16, 8, 8192, 50304), "bench:pythia-1b");
    }

    static Weights randomWeights(Architecture arch, NDManager m) {
        Weights w = new Weights(m, "random " + arch.config().modelType());
        for (TensorSpec t : arch.tensors()) {
            if (t.tied()) {
                continue;
            }
            NDArray a;
            boolean norm = t.role() == TensorSpec.Role.NORM;
            if (norm && t.name().endsWith("weight")) {
                a = m.ones(new ai.djl.ndarray.types.Shape(t.shape()));
            } else if (norm || t.name().endsWith("bias")) {
                a = m.zeros(new ai.djl.ndarray.types.Shape(t.shape()));
            } else {
                a = BenchContext.randn(m, 0.02f, t.shape());
            }
            w.put(t.name(), a);
        }
        return w;
    }

    static Architecture arch(ModelConfig cfg) {
        return Architectures.of(cfg);
    }
}
