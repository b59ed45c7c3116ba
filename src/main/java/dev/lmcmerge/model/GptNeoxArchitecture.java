package dev.lmcmerge.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import java.util.List;

import static dev.lmcmerge.model.TensorSpec.Role.NORM;
import static dev.lmcmerge.model.TensorSpec.Role.READER;
import static dev.lmcmerge.model.TensorSpec.Role.READER_BIAS;
import static dev.lmcmerge.model.TensorSpec.Role.WRITER;

/**
 * GPT-NeoX / Pythia ({@code GPTNeoXForCausalLM}): LayerNorm, fused QKV with rows per head
 * {@code [q_h | k_h | v_h]}, partial rotary over the first {@code rotaryDim} dims of each head
 * (rotate-half pairs), parallel or sequential residual, untied {@code embed_out}.
 */
public final class GptNeoxArchitecture extends AbstractArchitecture {
    public static final String EMBED = "gpt_neox.embed_in.weight";
    public static final String FINAL_NORM = "gpt_neox.final_layer_norm.";
    public static final String UNEMBED = "embed_out.weight";

    public GptNeoxArchitecture(ModelConfig cfg) {
        super(cfg);
    }

    @Override
    protected String layerPrefix(int layer) {
        return "gpt_neox.layers." + layer + ".";
    }

    @Override
    protected List<TensorSpec> buildTensors() {
        long d = cfg.hiddenSize();
        long v = cfg.vocabSize();
        long ff = cfg.intermediateSize();
        boolean bias = cfg.qkvBias();
        TensorTable t = new TensorTable().add(EMBED, WRITER, -1, v, d);
        for (int l = 0; l < cfg.numLayers(); l++) {
            String p = layerPrefix(l);
            t.add(p + "input_layernorm.weight", NORM, l, d)
                    .add(p + "input_layernorm.bias", NORM, l, d)
                    .add(p + "post_attention_layernorm.weight", NORM, l, d)
                    .add(p + "post_attention_layernorm.bias", NORM, l, d)
                    .add(p + "attention.query_key_value.weight", READER, l, 3 * d, d)
                    .addIf(bias, p + "attention.query_key_value.bias", READER_BIAS, l, 3 * d)
                    .add(p + "attention.dense.weight", WRITER, l, d, d)
                    .addIf(cfg.attnOutBias(), p + "attention.dense.bias", WRITER, l, d)
                    .add(p + "mlp.dense_h_to_4h.weight", READER, l, ff, d)
                    .add(p + "mlp.dense_h_to_4h.bias", READER_BIAS, l, ff)
                    .add(p + "mlp.dense_4h_to_h.weight", WRITER, l, d, ff)
                    .add(p + "mlp.dense_4h_to_h.bias", WRITER, l, d);
        }
        t.add(FINAL_NORM + "weight", NORM, -1, d).add(FINAL_NORM + "bias", NORM, -1, d);
        t.addUnembedding(UNEMBED, EMBED, cfg.tieWordEmbeddings(), v, d);
        return t.build();
    }

    @Override
    public String tokenEmbedding() {
        return EMBED;
    }

    @Override
    public NDArray embed(Weights w, NDArray ids) {
        return Nn.scoped(ids.getManager(), () -> {
            checkTokenIds(ids, 0);
            return Nn.embedding(ids, w.get(EMBED));
        });
    }

    @Override
    public NDArray block(int layer, Weights w, NDArray x) {
        checkLayer(layer);
        checkHidden(x, cfg.hiddenSize());
        return Nn.scoped(x.getManager(), () -> {
            String p = layerPrefix(layer);
            double eps = cfg.normEps();
            NDArray ln1 = Nn.layerNorm(x, w.get(p + "input_layernorm.weight"), w.get(p + "input_layernorm.bias"), eps);
            NDArray attn = attention(layer, w, ln1);
            if (cfg.parallelResidual()) {
                NDArray ln2 = Nn.layerNorm(x, w.get(p + "post_attention_layernorm.weight"),
                        w.get(p + "post_attention_layernorm.bias"), eps);
                return mlp(p, w, ln2).add(attn).add(x);
            }
            NDArray h = attn.add(x);
            NDArray ln2 = Nn.layerNorm(h, w.get(p + "post_attention_layernorm.weight"),
                    w.get(p + "post_attention_layernorm.bias"), eps);
            return mlp(p, w, ln2).add(h);
        });
    }

    private NDArray attention(int layer, Weights w, NDArray x) {
        String p = layerPrefix(layer);
        int heads = cfg.numHeads();
        int hd = cfg.headDim();
        NDArray qkv = Nn.linear(x, w.get(p + "attention.query_key_value.weight"),
                optional(w, p + "attention.query_key_value.bias", cfg.qkvBias()));
        // Rows per head are [q_h | k_h | v_h], each head_dim wide (HF view(B, T, H, 3*hd)).
        NDArray perHead = Nn.splitHeads(qkv, heads, 3 * hd);
        NDArray q = perHead.get(new NDIndex("..., :{}", hd));
        NDArray k = perHead.get(new NDIndex("..., {}:{}", hd, 2 * hd));
        NDArray v = perHead.get(new NDIndex("..., {}:", 2 * hd));
        int t = (int) x.getShape().get(1);
        NDManager m = x.getManager();
        if (cfg.rotaryDim() > 0) {
            NDArray[] cs = Nn.ropeTables(m, t, cfg.rotaryDim(), cfg.ropeTheta(), cfg.ropeScaling());
            q = Nn.rope(q, cs[0], cs[1], cfg.rotaryDim());
            k = Nn.rope(k, cs[0], cs[1], cfg.rotaryDim());
        }
        NDArray ctx = Nn.attention(q, k, v, 1.0 / Math.sqrt(hd), Nn.causalMask(m, t, 0));
        return Nn.linear(Nn.mergeHeads(ctx), w.get(p + "attention.dense.weight"),
                optional(w, p + "attention.dense.bias", cfg.attnOutBias()));
    }

    private NDArray mlp(String p, Weights w, NDArray x) {
        NDArray h = Nn.linear(x, w.get(p + "mlp.dense_h_to_4h.weight"), w.get(p + "mlp.dense_h_to_4h.bias"));
        return Nn.linear(Nn.activation(h, cfg.hiddenAct()), w.get(p + "mlp.dense_4h_to_h.weight"),
                w.get(p + "mlp.dense_4h_to_h.bias"));
    }

    @Override
    public NDArray finalNorm(Weights w, NDArray x) {
        return Nn.scoped(x.getManager(), () ->
                Nn.layerNorm(x, w.get(FINAL_NORM + "weight"), w.get(FINAL_NORM + "bias"), cfg.normEps()));
    }

    @Override
    public String unembedding() {
        return UNEMBED;
    }

    @Override
    public NDArray head(Weights w, NDArray x) {
        checkHidden(x, cfg.hiddenSize());
        return Nn.scoped(x.getManager(), () -> Nn.linear(
                Nn.layerNorm(x, w.get(FINAL_NORM + "weight"), w.get(FINAL_NORM + "bias"), cfg.normEps()),
                w.get(UNEMBED), null));
    }
}
