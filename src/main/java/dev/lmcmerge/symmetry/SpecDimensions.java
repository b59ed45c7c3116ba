package dev.lmcmerge.symmetry;

/**
 * The facts of a model configuration a {@link TransformSpec} table is built from.
 *
 * @param family          {@code gpt_neox}, {@code llama}, {@code gpt2} or {@code vit}
 * @param rotaryDim       dimensions of each head rotated by RoPE (0 without RoPE)
 * @param layerNorm       true for LayerNorm families (centering, rotations fixing the all-ones direction)
 * @param gatedMlp        true for gated MLPs (SwiGLU), where per-unit FFN scales are exact
 * @param tiedEmbeddings  true if the unembedding is tied to the token embedding in the stock checkpoint
 */
public record SpecDimensions(String family, int layers, int hidden, int heads, int kvHeads, int headDim,
                             int ffn, int rotaryDim, boolean layerNorm, boolean gatedMlp, boolean tiedEmbeddings) {

    public SpecDimensions {
        if (layers <= 0 || hidden <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0 || ffn <= 0) {
            throw new IllegalArgumentException("non-positive model dimension in " + this);
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("num heads " + heads + " is not a multiple of kv heads " + kvHeads);
        }
        if (rotaryDim < 0 || rotaryDim > headDim || rotaryDim % 2 != 0) {
            throw new IllegalArgumentException("rotary dims " + rotaryDim + " must be even and within head_dim " + headDim);
        }
    }

    /** Query heads per KV group. */
    public int groupSize() {
        return heads / kvHeads;
    }
}
