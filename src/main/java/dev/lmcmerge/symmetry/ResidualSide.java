package dev.lmcmerge.symmetry;

/** How a residual-stream axis of a tensor relates to the stream. */
public enum ResidualSide {
    /** Adds to the stream (embeddings, attention and MLP outputs): rotated, scaled, centered for LayerNorm. */
    WRITE,
    /** Reads the normalized stream (QKV, MLP input, unembedding, classifier): rotated only. */
    READ,
    /** A vector in the normalized stream (a norm's kept bias): rotated, never scaled or centered. */
    NORMALIZED
}
