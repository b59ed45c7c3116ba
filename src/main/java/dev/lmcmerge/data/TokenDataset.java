package dev.lmcmerge.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.config.LmcException;

/**
 * Token sequences of one fixed length {@code T} held in memory: row {@code i} is sequence
 * {@code i}. Batches are int64 tensors [B, T] (the last batch may be shorter), addressed by
 * index so that callers (and Spark tasks) can take any batch without reading the others.
 *
 * <p>Tokens are stored as int32 (4 bytes each; 100M tokens take 400 MB); vocabularies larger
 * than 2^31 do not exist. Splits and slices are views sharing the storage.
 */
public final class TokenDataset {
    private final String source;
    private final int[] tokens;
    private final int seqLen;
    private final int firstRow;
    private final int rows;

    private TokenDataset(String source, int[] tokens, int seqLen, int firstRow, int rows) {
        this.source = source;
        this.tokens = tokens;
        this.seqLen = seqLen;
        this.firstRow = firstRow;
        this.rows = rows;
    }

    /**
     * Rows of a row-major [N, T] token array ({@code tokens.length} a multiple of {@code seqLen}).
     *
     * @param source where the tokens came from, used in error messages
     */
    public static TokenDataset ofRows(String source, int[] tokens, int seqLen) {
        if (seqLen <= 0 || tokens.length % seqLen != 0) {
            throw new IllegalArgumentException(tokens.length + " tokens are not whole rows of " + seqLen);
        }
        return new TokenDataset(source, tokens, seqLen, 0, tokens.length / seqLen);
    }

    /**
     * Cuts the first {@code length} tokens of a token stream into consecutive sequences of
     * {@code seqLen}; a final remainder shorter than {@code seqLen} is dropped (never padded,
     * so every position predicts a real next token).
     */
    public static TokenDataset chunked(String source, int[] stream, int length, int seqLen) {
        if (seqLen <= 0) {
            throw LmcException.usage("seq-len", "must be positive, got " + seqLen);
        }
        return new TokenDataset(source, stream, seqLen, 0, length / seqLen);
    }

    /** Where the tokens came from (file or folder), for messages. */
    public String source() {
        return source;
    }

    /** Tokens per sequence (T). */
    public int seqLen() {
        return seqLen;
    }

    /** Number of sequences (N). */
    public int size() {
        return rows;
    }

    public boolean isEmpty() {
        return rows == 0;
    }

    /** Number of tokens in all sequences (N * T). */
    public long numTokens() {
        return (long) rows * seqLen;
    }

    /** The part of this dataset {@code split} names (see {@link Split} for the rule). */
    public TokenDataset split(Split split, double evalFraction) {
        long[] r = split.range(rows, evalFraction);
        return slice((int) r[0], (int) r[1]);
    }

    /** Sequences {@code [from, to)} of this dataset, sharing storage. */
    public TokenDataset slice(int from, int to) {
        if (from < 0 || to > rows || from > to) {
            throw new IndexOutOfBoundsException("slice [" + from + ", " + to + ") of " + rows + " sequences");
        }
        return new TokenDataset(source, tokens, seqLen, firstRow + from, to - from);
    }

    /** Number of batches of {@code batchSize} sequences, counting a shorter last batch. */
    public int numBatches(int batchSize) {
        checkBatchSize(batchSize);
        return (int) (((long) rows + batchSize - 1) / batchSize);
    }

    /** Number of sequences in batch {@code index}: {@code batchSize} except possibly the last. */
    public int batchRows(int index, int batchSize) {
        checkBatchSize(batchSize);
        long start = (long) index * batchSize;
        if (index < 0 || start >= rows) {
            throw new IndexOutOfBoundsException("batch " + index + " of " + numBatches(batchSize));
        }
        return (int) Math.min(batchSize, rows - start);
    }

    /** Batch {@code index} as row-major token ids, {@code batchRows * T} of them. */
    public long[] batchIds(int index, int batchSize) {
        int b = batchRows(index, batchSize);
        int start = (firstRow + index * batchSize) * seqLen;
        long[] out = new long[b * seqLen];
        for (int i = 0; i < out.length; i++) {
            out[i] = tokens[start + i];
        }
        return out;
    }

    /** Batch {@code index} as an int64 tensor [B, T] in {@code manager}. */
    public NDArray batch(NDManager manager, int index, int batchSize) {
        int b = batchRows(index, batchSize);
        return manager.create(batchIds(index, batchSize), new Shape(b, seqLen));
    }

    /** Sequence {@code i} as token ids. */
    public long[] row(int i) {
        if (i < 0 || i >= rows) {
            throw new IndexOutOfBoundsException("sequence " + i + " of " + rows);
        }
        long[] out = new long[seqLen];
        int start = (firstRow + i) * seqLen;
        for (int t = 0; t < seqLen; t++) {
            out[t] = tokens[start + t];
        }
        return out;
    }

    /** The largest token id in the dataset (-1 when empty). */
    public int maxTokenId() {
        int max = -1;
        int end = (firstRow + rows) * seqLen;
        for (int i = firstRow * seqLen; i < end; i++) {
            max = Math.max(max, tokens[i]);
        }
        return max;
    }

    /**
     * Checks that every token id lies in {@code [0, vocabSize)}.
     *
     * @return this dataset
     * @throws LmcException INVALID_INPUT naming the source and the first offending token
     */
    public TokenDataset requireVocab(int vocabSize) {
        int end = (firstRow + rows) * seqLen;
        for (int i = firstRow * seqLen; i < end; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocabSize) {
                int seq = i / seqLen - firstRow;
                throw LmcException.invalidInput(source, "token id " + tokens[i] + " (sequence " + seq + ", position "
                        + (i % seqLen) + ") is outside the model's vocabulary [0, " + vocabSize + ")");
            }
        }
        return this;
    }

    /**
     * Checks that the dataset has at least one sequence.
     *
     * @param what what the dataset is, e.g. "eval split", for the message
     * @return this dataset
     * @throws LmcException INVALID_INPUT naming the source
     */
    public TokenDataset requireNonEmpty(String what) {
        if (rows == 0) {
            throw LmcException.invalidInput(source, what + " has no complete sequence of " + seqLen + " tokens");
        }
        return this;
    }

    private static void checkBatchSize(int batchSize) {
        if (batchSize <= 0) {
            throw LmcException.usage("batch-size", "must be positive, got " + batchSize);
        }
    }

    @Override
    public String toString() {
        return "TokenDataset[" + source + ", " + rows + " x " + seqLen + "]";
    }
}
