package dev.lmcmerge.demo;

import dev.lmcmerge.config.LmcException;

/**
 * Everything that decides a demo training run. Two runs with equal options (and the same
 * libtorch thread count) write byte-identical checkpoints.
 *
 * @param out         output Hugging Face folder
 * @param overwrite   replace {@code out} if it exists
 * @param seed        seeds the initialization and the batch order
 * @param text        training text (the TRAIN split of it is used; see {@link dev.lmcmerge.data.Split})
 * @param model       model shape
 * @param batchSize   sequences per step
 * @param steps       optimizer steps
 * @param lr          peak learning rate (AdamW), reached after {@code warmup} steps, then cosine to lr/10
 * @param warmup      linear warm-up steps
 * @param weightDecay AdamW decoupled weight decay on weight matrices and embeddings (not biases or norms)
 * @param evalBatches batches of the eval split scored at the end (0 = none)
 * @param threads     libtorch intra-op threads, fixed so results do not depend on the machine
 */
public record TrainOptions(String out, boolean overwrite, long seed, String text, DemoModelConfig model,
                           int batchSize, int steps, double lr, int warmup, double weightDecay,
                           int evalBatches, int threads) {
    /** Largest global gradient norm; larger gradients are scaled down to it. */
    public static final double CLIP_NORM = 1.0;

    public TrainOptions {
        if (batchSize <= 0) {
            throw LmcException.usage("--batch-size", "must be positive, got " + batchSize);
        }
        if (steps <= 0) {
            throw LmcException.usage("--steps", "must be positive, got " + steps);
        }
        if (!(lr > 0)) {
            throw LmcException.usage("--lr", "must be positive, got " + lr);
        }
        if (warmup < 0) {
            throw LmcException.usage("--warmup", "must be >= 0, got " + warmup);
        }
        if (!(weightDecay >= 0)) {
            throw LmcException.usage("--weight-decay", "must be >= 0, got " + weightDecay);
        }
        if (evalBatches < 0) {
            throw LmcException.usage("--eval-batches", "must be >= 0, got " + evalBatches);
        }
        if (threads <= 0) {
            throw LmcException.usage("--threads", "must be positive, got " + threads);
        }
    }
}
