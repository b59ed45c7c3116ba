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
 * GPT-2 ({@code GPT2LMHeadModel}): Conv1D weights stored [in, out], learned position
 * embeddings, pre-norm blocks, {@code gelu_new} MLP, final {@code ln_f}, {@code lm_head} tied to
 * {@code wte} unless {@code tie_word_embeddings} is false.
 */
public final class Gpt2Architecture extends AbstractArchitecture {
    public static final String EMBED = "transformer.wte.weight";
    public static final String POSITIONS = "transformer.wpe.weight";
    public static final String FINAL_NORM = "transformer.ln_f.";
    public static final String UNEMBED = "lm_head.weight";

    public Gpt2Architecture(ModelConfig cfg) {
        super(cfg);
    }

    @Override
    protected String layerPrefix(int layer) {
        return "transformer.h." + layer + ".";
    }

    @Override
    protected List<TensorSpec> buildTensors() {
        long d = cfg.hiddenSize();
        long v = cfg.vocabSize();
        long ff = cfg.intermediateSize();
        TensorTable t = new TensorTable().add(EMBED, WRITER, -1, v, d).add(POSITIONS, WRITER, -1, cfg.maxPositions(), d);
        for (int l = 0; l < cfg.numLayers(); l++) {
            String p = layerPrefix(l);
            t.add(p + "ln_1.weight", NORM, l, d)
                    .add(p + "ln_1.bias", NORM, l, d)
                    .add(p + "attn.c_attn.weight", READER, l, d, 3 * d)
                    .add(p + "attn.c_attn.bias", READER_BIAS, l, 3 * d)
                    .add(p + "attn.c_proj.weight", WRITER, l, d, d)
                    .add(p + "attn.c_proj.bias", WRITER, l, d)
                    .add(p + "ln_2.weight", NORM, l, d)
                    .add(p + "ln_2.bias", NORM, l, d)
                    .add(p + "mlp.c_fc.weight", READER, l, d, ff)
                    .add(p + "mlp.c_fc.bias", READER_BIAS, l, ff)
                    .add(p + "mlp.c_proj.weight", WRITER, l, ff, d)
                    .add(p + "mlp.c_proj.bias", WRITER, l, d);
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
            checkTokenIds(ids, cfg.maxPositions());
            long t = ids.getShape().get(1);
            NDArray pos = w.get(POSITIONS).get(new NDIndex(":{}", t));
            return Nn.embedding(ids, w.get(EMBED)).add(pos);
        });
    }

    @Override
    public NDArray block(int layer, Weights w, NDArray x) {
        checkLayer(layer);
        checkHidden(x, cfg.hiddenSize());
        return Nn.scoped(x.getManager(), () -> {
            String p = layerPrefix(layer);
            double eps = cfg.normEps();
            NDArray h = attention(layer, w, Nn.layerNorm(x, w.get(p + "ln_1.weight"), w.get(p + "ln_1.bias"), eps)).add(x);
            NDArray n2 = Nn.layerNorm(h, w.get(p + "ln_2.weight"), w.get(p + "ln_2.bias"), eps);
            NDArray inner = Nn.activation(Nn.conv1d(n2, w.get(p + "mlp.c_fc.weight"), w.get(p + "mlp.c_fc.bias")),
                    cfg.hiddenAct());
            return Nn.conv1d(inner, w.get(p + "mlp.c_proj.weight"), w.get(p + "mlp.c_proj.bias")).add(h);
        });
    }

    private NDArray attention(int layer, Weights w, NDArray x) {
        String p = layerPrefix(layer);
        int d = cfg.hiddenSize();
        int hd = cfg.headDim();
        NDArray qkv = Nn.conv1d(x, w.get(p + "attn.c_attn.weight"), w.get(p + "attn.c_attn.bias"));
        // Columns are [Q | K | V] sections of width d; head h is columns h*hd..(h+1)*hd of each.
        NDArray q = Nn.splitHeads(qkv.get(new NDIndex("..., :{}", d)), cfg.numHeads(), hd);
        NDArray k = Nn.splitHeads(qkv.get(new NDIndex("..., {}:{}", d, 2 * d)), cfg.numHeads(), hd);
        NDArray v = Nn.splitHeads(qkv.get(new NDIndex("..., {}:", 2 * d)), cfg.numHeads(), hd);
        int t = (int) x.getShape().get(1);
        NDManager m = x.getManager();
        double scale = 1.0 / Math.sqrt(hd);
        if (cfg.scaleAttnByInverseLayerIdx()) {
            scale /= (layer + 1);
        }
        NDArray ctx = Nn.attention(q, k, v, scale, Nn.causalMask(m, t, 0));
        return Nn.conv1d(Nn.mergeHeads(ctx), w.get(p + "attn.c_proj.weight"), w.get(p + "attn.c_proj.bias"));
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
