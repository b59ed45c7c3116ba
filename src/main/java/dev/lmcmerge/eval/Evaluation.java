package dev.lmcmerge.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.lmcmerge.data.ImageBatch;
import dev.lmcmerge.data.ImageDataset;
import dev.lmcmerge.data.ImagePreprocessing;
import dev.lmcmerge.data.TokenDataset;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Losses;
import dev.lmcmerge.model.Weights;

/**
 * Scores a model on a dataset: mean next-token cross-entropy (language models) or mean
 * classification cross-entropy and top-1 accuracy (ViT), over the first {@code maxBatches}
 * batches. Means are exact over the whole set (per-batch sums over the total count), so the
 * result does not depend on the batch size beyond float32 rounding.
 */
public final class Evaluation {
    private Evaluation() {}

    /**
     * The score of one model on one dataset.
     *
     * @param kind        {@code causal_lm} or {@code classification}
     * @param loss        mean cross-entropy per prediction (nats)
     * @param accuracy    top-1 accuracy (classification), NaN for language models
     * @param examples    sequences or images scored
     * @param tokens      input tokens scored (0 for images)
     * @param predictions predicted tokens ({@code examples * (T - 1)}) or images
     * @param batches     batches run
     */
    public record Result(String kind, double loss, double accuracy, long examples, long tokens, long predictions,
                         int batches) {
        /** {@code exp(loss)}; meaningful for language models. */
        public double perplexity() {
            return Math.exp(loss);
        }
    }

    /** Number of batches a run will take: all of them, or at most {@code maxBatches} when positive. */
    public static int plannedBatches(int available, int maxBatches) {
        return maxBatches > 0 ? Math.min(available, maxBatches) : available;
    }

    /**
     * Mean next-token loss with Hugging Face semantics ({@code labels = input_ids}: each sequence
     * predicts its tokens 1..T-1).
     *
     * @param meter progress reporter, or null
     */
    public static Result causalLm(Architecture arch, Weights w, TokenDataset ds, int batchSize, int maxBatches,
                                  ProgressMeter meter) {
        int n = plannedBatches(ds.numBatches(batchSize), maxBatches);
        double sum = 0;
        long predictions = 0;
        long examples = 0;
        for (int i = 0; i < n; i++) {
            try (NDManager sm = w.manager().newSubManager()) {
                NDArray ids = ds.batch(sm, i, batchSize);
                long rows = ids.getShape().get(0);
                sum += Losses.causalLmSum(arch.forward(w, ids), ids).toType(DataType.FLOAT64, false).getDouble();
                predictions += Losses.predictedTokens(ids);
                examples += rows;
            }
            if (meter != null) {
                meter.step((long) ds.batchRows(i, batchSize) * ds.seqLen());
            }
        }
        if (meter != null) {
            meter.finish();
        }
        return new Result("causal_lm", sum / predictions, Double.NaN, examples, examples * ds.seqLen(), predictions, n);
    }

    /**
     * Mean classification loss and top-1 accuracy over images.
     *
     * @param meter progress reporter, or null
     */
    public static Result classification(Architecture arch, Weights w, ImageDataset ds, ImagePreprocessing prep,
                                        int batchSize, int maxBatches, ProgressMeter meter) {
        int n = plannedBatches(ds.numBatches(batchSize), maxBatches);
        double sum = 0;
        long correct = 0;
        long examples = 0;
        for (int i = 0; i < n; i++) {
            try (NDManager sm = w.manager().newSubManager()) {
                ImageBatch b = ds.batch(sm, i, batchSize, prep);
                long rows = b.labels().getShape().get(0);
                NDArray logits = arch.forward(w, b.pixels());
                sum += Losses.classification(logits, b.labels()).toType(DataType.FLOAT64, false).getDouble() * rows;
                correct += Losses.correct(logits, b.labels());
                examples += rows;
                if (meter != null) {
                    meter.step(rows);
                }
            }
        }
        if (meter != null) {
            meter.finish();
        }
        return new Result("classification", sum / examples, (double) correct / examples, examples, 0, examples, n);
    }
}
