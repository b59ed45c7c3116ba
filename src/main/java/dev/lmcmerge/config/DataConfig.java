package dev.lmcmerge.config;

import java.util.Optional;

/**
 * {@code lmc.data}: where the training and held-out data are and how they are cut.
 *
 * @param train training data for learned and activation matching; empty: the training split of {@code eval}
 * @param eval held-out data for the barrier curves (required by {@code merge})
 * @param format the data format, or {@link Format#AUTO} to infer it from the path
 * @param seqLen tokens per sequence (language models)
 * @param batchSize sequences or images per batch and task
 * @param tokenizer tokenizer.json for text data; empty: model A's
 * @param evalFraction share held out for evaluation when one data set serves both splits, in (0, 1)
 */
public record DataConfig(
        Optional<String> train,
        Optional<String> eval,
        Format format,
        int seqLen,
        int batchSize,
        Optional<String> tokenizer,
        double evalFraction) {

    /** Data formats; {@code auto} infers one from the path. */
    public enum Format { AUTO, PARQUET, NPY, TEXT, IMAGES }

    static DataConfig read(ConfigReader r) {
        return new DataConfig(
                r.optionalString("lmc.data.train"),
                r.optionalString("lmc.data.eval"),
                r.enumValue("lmc.data.format", Format.class),
                r.intIn("lmc.data.seq-len", 2, 1 << 20),
                r.intIn("lmc.data.batch-size", 1, 65536),
                r.optionalString("lmc.data.tokenizer"),
                r.doubleIn("lmc.data.eval-fraction", 0, false, 1, false));
    }
}
