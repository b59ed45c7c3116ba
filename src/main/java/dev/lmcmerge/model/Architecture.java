package dev.lmcmerge.model;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * A model family as data plus one block forward: the tensors of a configured model (names,
 * shapes, residual roles) and the float32 forward pass in DJL, split at block boundaries so
 * callers can stream layer blocks (run blocks without a graph, recompute one with a graph).
 *
 * <p>Every method is a pure function of the weights passed in, so the same architecture runs
 * original, canonical, transformed and interpolated weights, with or without autograd.
 */
public interface Architecture {

    /** The parsed configuration this architecture was built for. */
    ModelConfig config();

    /** Every tensor the stock Hugging Face checkpoint holds, in a stable order. */
    List<TensorSpec> tensors();

    /**
     * Input to residual stream: token ids [B, T] (int64) for language models, pixel values
     * [B, C, H, W] (float32) for ViT; returns hidden states [B, T, d].
     */
    NDArray embed(Weights w, NDArray input);

    /**
     * The tensor {@link #embed} looks token ids up in (one row per vocabulary entry), or null
     * when the input is not token ids (ViT). Since the lookup only selects rows, a caller may pass
     * {@link #embed} a table of just the rows a batch uses, with the ids renumbered into it
     * ({@link TokenRows}): transforming 10^3 rows instead of 5 x 10^4.
     */
    default String tokenEmbedding() {
        return null;
    }

    /** Block {@code layer} (0-based): hidden [B, T, d] to hidden [B, T, d]. */
    NDArray block(int layer, Weights w, NDArray hidden);

    /**
     * The final norm alone (LayerNorm or RMSNorm before the unembedding or classifier), so
     * callers can compare with Hugging Face {@code hidden_states}, whose last entry of a
     * language model is taken after this norm.
     */
    NDArray finalNorm(Weights w, NDArray hidden);

    /**
     * The unembedding's tensor name when {@link #head} is exactly {@link #finalNorm} followed by a
     * bias-free product with it (logits = finalNorm(h) W^T), or null (a classifier head). Callers
     * use it to take the logits of a combination of unembeddings from activations.
     */
    default String unembedding() {
        return null;
    }

    /** Final norm and unembedding (or classifier on the CLS token): logits [B, T, V] or [B, classes]. */
    NDArray head(Weights w, NDArray hidden);

    /** The whole forward pass: {@code head(block_{L-1}(...block_0(embed(input))))}. */
    default NDArray forward(Weights w, NDArray input) {
        NDArray h = embed(w, input);
        for (int l = 0; l < config().numLayers(); l++) {
            h = block(l, w, h);
        }
        return head(w, h);
    }
}
