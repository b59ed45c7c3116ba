package dev.lmcmerge.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;

import static dev.lmcmerge.model.TensorSpec.Role.NORM;
import static dev.lmcmerge.model.TensorSpec.Role.READER;
import static dev.lmcmerge.model.TensorSpec.Role.READER_BIAS;
import static dev.lmcmerge.model.TensorSpec.Role.WRITER;

/**
 * Llama ({@code LlamaForCausalLM}) and the configs that share its layout: qwen2 (q/k/v biases)
 * and mistral (sliding-window attention). RMSNorm, RoPE over the full head_dim with optional
 * {@code linear} / {@code llama3} frequency scaling, grouped-query attention, SwiGLU MLP,
 * tied or untied {@code lm_head}.
 */
public final class LlamaArchitecture extends AbstractArchitecture {
    public static final String EMBED = "model.embed_tokens.weight";
    public static final String FINAL_NORM = "model.norm.weight";
    public static final String UNEMBED = "lm_head.weight";

    public LlamaArchitecture(ModelConfig cfg) {
        super(cfg);
    }

    @Override
    protected String layerPrefix(int layer) {
        return "model.layers." + layer + ".";
    }

    @Override
    protected List<TensorSpec> buildTensors() {
        long d = cfg.hiddenSize();
        long v = cfg.vocabSize();
        long ff = cfg.intermediateSize();
        long q = (long) cfg.numHeads() * cfg.headDim();
        long kv = (long) cfg.numKvHeads() * cfg.headDim();
        boolean qkvBias = cfg.qkvBias();
        boolean mlpBias = cfg.mlpBias();
        TensorTable t = new TensorTable().add(EMBED, WRITER, -1, v, d);
        for (int l = 0; l < cfg.numLayers(); l++) {
            String p = layerPrefix(l);
            t.add(p + "self_attn.q_proj.weight", READER, l, q, d)
                    .addIf(qkvBias, p + "self_attn.q_proj.bias", READER_BIAS, l, q)
                    .add(p + "self_attn.k_proj.weight", READER, l, kv, d)
                    .addIf(qkvBias, p + "self_attn.k_proj.bias", READER_BIAS, l, kv)
                    .add(p + "self_attn.v_proj.weight", READER, l, kv, d)
                    .addIf(qkvBias, p + "self_attn.v_proj.bias", READER_BIAS, l, kv)
                    .add(p + "self_attn.o_proj.weight", WRITER, l, d, q)
                    .addIf(cfg.attnOutBias(), p + "self_attn.o_proj.bias", WRITER, l, d)
                    .add(p + "mlp.gate_proj.weight", READER, l, ff, d)
                    .addIf(mlpBias, p + "mlp.gate_proj.bias", READER_BIAS, l, ff)
                    .add(p + "mlp.up_proj.weight", READER, l, ff, d)
                    .addIf(mlpBias, p + "mlp.up_proj.bias", READER_BIAS, l, ff)
                    .add(p + "mlp.down_proj.weight", WRITER, l, d, ff)
                    .addIf(mlpBias, p + "mlp.down_proj.bias", WRITER, l, d)
                    .add(p + "input_layernorm.weight", NORM, l, d)
                    .add(p + "post_attention_layernorm.weight", NORM, l, d);
        }
        t.add(FINAL_NORM, NORM, -1, d);
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
            NDArray h = attention(layer, w, Nn.rmsNorm(x, w.get(p + "input_layernorm.weight"), cfg.normEps())).add(x);
            NDArray n2 = Nn.rmsNorm(h, w.get(p + "post_attention_layernorm.weight"), cfg.normEps());
            return mlp(p, w, n2).add(h);
        });
    }

    private NDArray attention(int layer, Weights w, NDArray x) {
        String p = layerPrefix(layer);
        int hd = cfg.headDim();
        boolean b = cfg.qkvBias();
        NDArray q = Nn.splitHeads(Nn.linear(x, w.get(p + "self_attn.q_proj.weight"),
                optional(w, p + "self_attn.q_proj.bias", b)), cfg.numHeads(), hd);
        NDArray k = Nn.splitHeads(Nn.linear(x, w.get(p + "self_attn.k_proj.weight"),
                optional(w, p + "self_attn.k_proj.bias", b)), cfg.numKvHeads(), hd);
        NDArray v = Nn.splitHeads(Nn.linear(x, w.get(p + "self_attn.v_proj.weight"),
                optional(w, p + "self_attn.v_proj.bias", b)), cfg.numKvHeads(), hd);
        int t = (int) x.getShape().get(1);
        NDManager m = x.getManager();
        NDArray[] cs = Nn.ropeTables(m, t, cfg.rotaryDim(), cfg.ropeTheta(), cfg.ropeScaling());
        q = Nn.rope(q, cs[0], cs[1], cfg.rotaryDim());
        k = Nn.rope(k, cs[0], cs[1], cfg.rotaryDim());
        NDArray mask = Nn.causalMask(m, t, cfg.windowed(layer) ? cfg.slidingWindow() : 0);
        NDArray ctx = Nn.attention(q, k, v, 1.0 / Math.sqrt(hd), mask);
        return Nn.linear(Nn.mergeHeads(ctx), w.get(p + "self_attn.o_proj.weight"),
                optional(w, p + "self_attn.o_proj.bias", cfg.attnOutBias()));
    }

    private NDArray mlp(String p, Weights w, NDArray x) {
        boolean b = cfg.mlpBias();
        NDArray gate = Nn.linear(x, w.get(p + "mlp.gate_proj.weight"), optional(w, p + "mlp.gate_proj.bias", b));
        NDArray up = Nn.linear(x, w.get(p + "mlp.up_proj.weight"), optional(w, p + "mlp.up_proj.bias", b));
        return Nn.linear(Nn.activation(gate, cfg.hiddenAct()).mul(up), w.get(p + "mlp.down_proj.weight"),
                optional(w, p + "mlp.down_proj.bias", b));
    }

    @Override
    public NDArray finalNorm(Weights w, NDArray x) {
        return Nn.scoped(x.getManager(), () -> Nn.rmsNorm(x, w.get(FINAL_NORM), cfg.normEps()));
    }

    @Override
    public String unembedding() {
        return UNEMBED;
    }

    @Override
    public NDArray head(Weights w, NDArray x) {
        checkHidden(x, cfg.hiddenSize());
        return Nn.scoped(x.getManager(), () ->
                Nn.linear(Nn.rmsNorm(x, w.get(FINAL_NORM), cfg.normEps()), w.get(UNEMBED), null));
    }
}
