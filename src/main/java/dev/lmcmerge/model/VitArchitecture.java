package dev.lmcmerge.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.config.LmcException;
import java.util.List;

import static dev.lmcmerge.model.TensorSpec.Role.NORM;
import static dev.lmcmerge.model.TensorSpec.Role.READER;
import static dev.lmcmerge.model.TensorSpec.Role.READER_BIAS;
import static dev.lmcmerge.model.TensorSpec.Role.WRITER;

/**
 * ViT image classifier ({@code ViTForImageClassification}, no pooler): patch projection, CLS
 * token, learned position embeddings, pre-norm blocks with exact GELU, final LayerNorm and a
 * classifier on the CLS token. No attention mask.
 */
public final class VitArchitecture extends AbstractArchitecture {
    public static final String CLS = "vit.embeddings.cls_token";
    public static final String PATCH_WEIGHT = "vit.embeddings.patch_embeddings.projection.weight";
    public static final String PATCH_BIAS = "vit.embeddings.patch_embeddings.projection.bias";
    public static final String POSITIONS = "vit.embeddings.position_embeddings";
    public static final String FINAL_NORM = "vit.layernorm.";
    public static final String CLASSIFIER = "classifier.";

    public VitArchitecture(ModelConfig cfg) {
        super(cfg);
    }

    @Override
    protected String layerPrefix(int layer) {
        return "vit.encoder.layer." + layer + ".";
    }

    @Override
    protected List<TensorSpec> buildTensors() {
        long d = cfg.hiddenSize();
        long ff = cfg.intermediateSize();
        long p = cfg.patchSize();
        boolean qkvBias = cfg.qkvBias();
        TensorTable t = new TensorTable()
                .add(CLS, WRITER, -1, 1, 1, d)
                .add(PATCH_WEIGHT, WRITER, -1, d, cfg.numChannels(), p, p)
                .add(PATCH_BIAS, WRITER, -1, d)
                .add(POSITIONS, WRITER, -1, 1, cfg.numPatches() + 1, d);
        for (int l = 0; l < cfg.numLayers(); l++) {
            String pre = layerPrefix(l);
            String a = pre + "attention.attention.";
            t.add(a + "query.weight", READER, l, d, d)
                    .addIf(qkvBias, a + "query.bias", READER_BIAS, l, d)
                    .add(a + "key.weight", READER, l, d, d)
                    .addIf(qkvBias, a + "key.bias", READER_BIAS, l, d)
                    .add(a + "value.weight", READER, l, d, d)
                    .addIf(qkvBias, a + "value.bias", READER_BIAS, l, d)
                    .add(pre + "attention.output.dense.weight", WRITER, l, d, d)
                    .add(pre + "attention.output.dense.bias", WRITER, l, d)
                    .add(pre + "intermediate.dense.weight", READER, l, ff, d)
                    .add(pre + "intermediate.dense.bias", READER_BIAS, l, ff)
                    .add(pre + "output.dense.weight", WRITER, l, d, ff)
                    .add(pre + "output.dense.bias", WRITER, l, d)
                    .add(pre + "layernorm_before.weight", NORM, l, d)
                    .add(pre + "layernorm_before.bias", NORM, l, d)
                    .add(pre + "layernorm_after.weight", NORM, l, d)
                    .add(pre + "layernorm_after.bias", NORM, l, d);
        }
        t.add(FINAL_NORM + "weight", NORM, -1, d).add(FINAL_NORM + "bias", NORM, -1, d)
                .add(CLASSIFIER + "weight", READER, -1, cfg.numLabels(), d)
                .add(CLASSIFIER + "bias", READER_BIAS, -1, cfg.numLabels());
        return t.build();
    }

    /** Pixel values [B, C, H, W] (float32) to [B, 1 + patches, d]. */
    @Override
    public NDArray embed(Weights w, NDArray pixels) {
        checkPixels(pixels);
        return Nn.scoped(pixels.getManager(), () -> {
            Shape s = pixels.getShape();
            long b = s.get(0);
            int c = cfg.numChannels();
            int p = cfg.patchSize();
            long grid = cfg.imageSize() / p;
            long d = cfg.hiddenSize();
            NDArray x = pixels.getDataType() == DataType.FLOAT32 ? pixels : pixels.toType(DataType.FLOAT32, false);
            // The stride-p, kernel-p convolution is a matmul on unfolded patches, taken in
            // row-major patch order with each patch flattened as (C, p, p) like the kernel.
            NDArray patches = x.reshape(b, c, grid, p, grid, p).transpose(0, 2, 4, 1, 3, 5)
                    .reshape(b, grid * grid, (long) c * p * p);
            NDArray kernel = w.get(PATCH_WEIGHT).reshape(d, (long) c * p * p);
            NDArray emb = Nn.linear(patches, kernel, w.get(PATCH_BIAS));
            NDArray cls = w.get(CLS).broadcast(new Shape(b, 1, d));
            return cls.concat(emb, 1).add(w.get(POSITIONS));
        });
    }

    private void checkPixels(NDArray pixels) {
        Shape s = pixels.getShape();
        int size = cfg.imageSize();
        if (s.dimension() != 4 || s.get(1) != cfg.numChannels() || s.get(2) != size || s.get(3) != size
                || !pixels.getDataType().isFloating()) {
            throw LmcException.invalidInput("pixel_values", "expected a float array [batch, " + cfg.numChannels()
                    + ", " + size + ", " + size + "], got " + pixels.getDataType() + " " + s);
        }
    }

    @Override
    public NDArray block(int layer, Weights w, NDArray x) {
        checkLayer(layer);
        checkHidden(x, cfg.hiddenSize());
        return Nn.scoped(x.getManager(), () -> {
            String p = layerPrefix(layer);
            double eps = cfg.normEps();
            NDArray n1 = Nn.layerNorm(x, w.get(p + "layernorm_before.weight"), w.get(p + "layernorm_before.bias"), eps);
            NDArray h = attention(p, w, n1).add(x);
            NDArray n2 = Nn.layerNorm(h, w.get(p + "layernorm_after.weight"), w.get(p + "layernorm_after.bias"), eps);
            NDArray inner = Nn.activation(Nn.linear(n2, w.get(p + "intermediate.dense.weight"),
                    w.get(p + "intermediate.dense.bias")), cfg.hiddenAct());
            return Nn.linear(inner, w.get(p + "output.dense.weight"), w.get(p + "output.dense.bias")).add(h);
        });
    }

    private NDArray attention(String p, Weights w, NDArray x) {
        String a = p + "attention.attention.";
        boolean b = cfg.qkvBias();
        int heads = cfg.numHeads();
        int hd = cfg.headDim();
        NDArray q = Nn.splitHeads(Nn.linear(x, w.get(a + "query.weight"), optional(w, a + "query.bias", b)), heads, hd);
        NDArray k = Nn.splitHeads(Nn.linear(x, w.get(a + "key.weight"), optional(w, a + "key.bias", b)), heads, hd);
        NDArray v = Nn.splitHeads(Nn.linear(x, w.get(a + "value.weight"), optional(w, a + "value.bias", b)), heads, hd);
        NDArray ctx = Nn.attention(q, k, v, 1.0 / Math.sqrt(hd), null);
        return Nn.linear(Nn.mergeHeads(ctx), w.get(p + "attention.output.dense.weight"),
                w.get(p + "attention.output.dense.bias"));
    }

    @Override
    public NDArray finalNorm(Weights w, NDArray x) {
        return Nn.scoped(x.getManager(), () ->
                Nn.layerNorm(x, w.get(FINAL_NORM + "weight"), w.get(FINAL_NORM + "bias"), cfg.normEps()));
    }

    /** Final LayerNorm, then the classifier on the CLS token: logits [B, labels]. */
    @Override
    public NDArray head(Weights w, NDArray x) {
        checkHidden(x, cfg.hiddenSize());
        return Nn.scoped(x.getManager(), () -> {
            NDArray cls = x.get(new NDIndex(":, 0, :"));
            NDArray n = Nn.layerNorm(cls, w.get(FINAL_NORM + "weight"), w.get(FINAL_NORM + "bias"), cfg.normEps());
            return Nn.linear(n, w.get(CLASSIFIER + "weight"), w.get(CLASSIFIER + "bias"));
        });
    }
}
