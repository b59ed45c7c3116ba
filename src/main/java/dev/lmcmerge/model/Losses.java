package dev.lmcmerge.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Training and evaluation losses with Hugging Face semantics. All are differentiable with DJL
 * autograd (log-softmax and gather, no in-place updates) and computed in float32.
 */
public final class Losses {
    private Losses() {
    }

    /**
     * Mean next-token cross-entropy as Hugging Face computes it with {@code labels = input_ids}:
     * the logits at position t predict token t + 1, averaged over the B * (T - 1) predicted tokens.
     *
     * @param logits [B, T, V]
     * @param ids    [B, T] integer token ids
     * @return a scalar
     */
    public static NDArray causalLm(NDArray logits, NDArray ids) {
        return Nn.over(causalLmSum(logits, ids), predictedTokens(ids));
    }

    /**
     * The sum (not the mean) of the next-token cross-entropies, for exact averages over several
     * batches: divide the total by the total of {@link #predictedTokens(NDArray)}.
     */
    public static NDArray causalLmSum(NDArray logits, NDArray ids) {
        Shape s = logits.getShape();
        if (s.dimension() != 3 || ids.getShape().dimension() != 2 || s.get(0) != ids.getShape().get(0)
                || s.get(1) != ids.getShape().get(1)) {
            throw new IllegalArgumentException("logits " + s + " do not match input_ids " + ids.getShape()
                    + "; expected [B, T, V] and [B, T]");
        }
        if (s.get(1) < 2) {
            throw new IllegalArgumentException("sequence length " + s.get(1) + " predicts no token; need at least 2");
        }
        NDArray shifted = logits.get(new NDIndex(":, :-1, :"));
        NDArray targets = ids.get(new NDIndex(":, 1:"));
        return nll(shifted, targets).sum();
    }

    /** B * (T - 1): the number of tokens {@link #causalLm} averages over. */
    public static long predictedTokens(NDArray ids) {
        Shape s = ids.getShape();
        return s.get(0) * (s.get(1) - 1);
    }

    /**
     * Mean classification cross-entropy.
     *
     * @param logits [B, C]
     * @param labels [B] integer class indices
     * @return a scalar
     */
    public static NDArray classification(NDArray logits, NDArray labels) {
        checkClassification(logits, labels);
        return nll(logits, labels).mean();
    }

    /** Top-1 accuracy in [0, 1]: the fraction of rows whose arg-max logit is the label (not differentiable). */
    public static double accuracy(NDArray logits, NDArray labels) {
        return (double) correct(logits, labels) / logits.getShape().get(0);
    }

    /** Number of rows whose arg-max logit is the label. */
    public static long correct(NDArray logits, NDArray labels) {
        checkClassification(logits, labels);
        NDArray pred = logits.argMax(-1).toType(DataType.INT64, false);
        NDArray hit = pred.eq(labels.toType(DataType.INT64, false));
        try {
            return hit.toType(DataType.INT64, false).sum().getLong();
        } finally {
            pred.close();
            hit.close();
        }
    }

    /** Per-row negative log-likelihood of {@code targets} under {@code logits} (classes on the last axis). */
    private static NDArray nll(NDArray logits, NDArray targets) {
        NDArray idx = targets.toType(DataType.INT64, false).expandDims(-1);
        NDArray logp = logits.logSoftmax(-1);
        return logp.gather(idx, -1).squeeze(-1).neg();
    }

    private static void checkClassification(NDArray logits, NDArray labels) {
        Shape s = logits.getShape();
        if (s.dimension() != 2 || labels.getShape().dimension() != 1 || labels.getShape().get(0) != s.get(0)) {
            throw new IllegalArgumentException("logits " + s + " do not match labels " + labels.getShape()
                    + "; expected [B, C] and [B]");
        }
    }
}
