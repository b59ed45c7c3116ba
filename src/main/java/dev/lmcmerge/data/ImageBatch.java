package dev.lmcmerge.data;

import ai.djl.ndarray.NDArray;

/**
 * One batch of an image dataset.
 *
 * @param pixels float32 [B, 3, H, W], normalized
 * @param labels int64 [B] class indices
 */
public record ImageBatch(NDArray pixels, NDArray labels) {}
