package dev.lmcmerge.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.config.LmcException;
import java.util.List;

/** What the four families share: the config, the tensor table, input checks. */
abstract class AbstractArchitecture implements Architecture {
    protected final ModelConfig cfg;
    private final List<TensorSpec> tensors;

    AbstractArchitecture(ModelConfig cfg) {
        this.cfg = cfg;
        this.tensors = buildTensors();
    }

    /** The stock checkpoint's tensors for {@link #cfg}, in Hugging Face state-dict order. */
    protected abstract List<TensorSpec> buildTensors();

    @Override
    public ModelConfig config() {
        return cfg;
    }

    @Override
    public List<TensorSpec> tensors() {
        return tensors;
    }

    /** The block's tensor name prefix, e.g. {@code gpt_neox.layers.3.}. */
    protected abstract String layerPrefix(int layer);

    /** Optional tensor: null when the config has no such bias. */
    protected static NDArray optional(Weights w, String name, boolean present) {
        return present ? w.get(name) : null;
    }

    protected void checkLayer(int layer) {
        if (layer < 0 || layer >= cfg.numLayers()) {
            throw new IllegalArgumentException("layer " + layer + " out of range [0, " + cfg.numLayers() + ")");
        }
    }

    protected static void checkHidden(NDArray hidden, int d) {
        Shape s = hidden.getShape();
        if (s.dimension() != 3 || s.get(2) != d) {
            throw new IllegalArgumentException("hidden states must be [B, T, " + d + "], got " + s);
        }
    }

    /**
     * Token ids [B, T] in range for a language model, at most {@code maxT} long (0 = no limit).
     *
     * @throws LmcException INVALID_INPUT for a wrong shape or dtype, or an id outside [0, vocab)
     */
    protected void checkTokenIds(NDArray ids, int maxT) {
        Shape s = ids.getShape();
        DataType t = ids.getDataType();
        if (s.dimension() != 2 || !(t == DataType.INT64 || t == DataType.INT32)) {
            throw LmcException.invalidInput("input_ids", "expected an int32 or int64 array [batch, seq], got "
                    + t + " " + s);
        }
        if (s.get(1) == 0 || s.get(0) == 0) {
            throw LmcException.invalidInput("input_ids", "empty input " + s);
        }
        if (maxT > 0 && s.get(1) > maxT) {
            throw LmcException.invalidInput("input_ids", "sequence length " + s.get(1)
                    + " exceeds the model's " + maxT + " positions");
        }
        long min = ids.min().toType(DataType.INT64, false).getLong();
        long max = ids.max().toType(DataType.INT64, false).getLong();
        if (min < 0 || max >= cfg.vocabSize()) {
            throw LmcException.invalidInput("input_ids", "token id " + (min < 0 ? min : max)
                    + " is outside the vocabulary [0, " + cfg.vocabSize() + ")");
        }
    }
}
