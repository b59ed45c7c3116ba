package dev.lmcmerge.dist;

import java.io.Serializable;

/** One row of each result table (DESIGN.md section 7), as the job produces them. */
public final class ResultRows {
    private ResultRows() {}

    /**
     * One point of a barrier curve: the merged model at {@code alpha} on one data split.
     *
     * @param accuracy top-1 accuracy for classifiers; null for language models
     * @param nExamples sequences (or images) evaluated
     * @param nTokens tokens whose next token was predicted (0 for classifiers)
     */
    public record Curve(String runId, String method, double alpha, String split, double loss, double perplexity,
                        Double accuracy, long nExamples, long nTokens) implements Serializable {}

    /** The barrier of one method's curve (see {@link dev.lmcmerge.eval.Barrier}). */
    public record Barrier(String runId, String method, double barrier, double barrierRel, double argmaxAlpha,
                          double lossA, double lossB) implements Serializable {}

    /**
     * One slot's parameters of one model's final transformation.
     *
     * @param model {@code a} or {@code b}
     * @param layer 0-based layer, -1 for model-wide slots
     * @param kind  the slot kind (e.g. {@code residual_rotation}, {@code ffn_permutation})
     */
    public record Transform(String runId, String method, String model, String slot, int layer, String kind,
                            int[] shape, float[] values) implements Serializable {}
}
