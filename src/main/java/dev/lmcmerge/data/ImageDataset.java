package dev.lmcmerge.data;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.config.LmcException;
import java.util.List;

/**
 * Labeled images held in memory as their encoded bytes (decoding happens per batch, so a
 * dataset costs its compressed size). Row {@code i} is example {@code i}; splits and slices are
 * views, and follow the same rule as token data (see {@link Split}).
 */
public final class ImageDataset {
    private final String source;
    private final List<byte[]> images;
    private final long[] labels;
    private final List<String> origins;
    private final int first;
    private final int size;

    /**
     * @param source  the dataset location, for messages
     * @param images  encoded image bytes per example
     * @param labels  class index per example
     * @param origins where each example comes from ("file, row r"), for error messages
     */
    public ImageDataset(String source, List<byte[]> images, long[] labels, List<String> origins) {
        this(source, List.copyOf(images), labels.clone(), List.copyOf(origins), 0, images.size());
        if (images.size() != labels.length || images.size() != origins.size()) {
            throw new IllegalArgumentException(images.size() + " images, " + labels.length + " labels, "
                    + origins.size() + " origins");
        }
    }

    private ImageDataset(String source, List<byte[]> images, long[] labels, List<String> origins, int first, int size) {
        this.source = source;
        this.images = images;
        this.labels = labels;
        this.origins = origins;
        this.first = first;
        this.size = size;
    }

    public String source() {
        return source;
    }

    /** Number of examples. */
    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    /** The part {@code split} names: the last {@code ceil(n * evalFraction)} examples are eval. */
    public ImageDataset split(Split split, double evalFraction) {
        long[] r = split.range(size, evalFraction);
        return slice((int) r[0], (int) r[1]);
    }

    /** Examples {@code [from, to)}, sharing storage. */
    public ImageDataset slice(int from, int to) {
        if (from < 0 || to > size || from > to) {
            throw new IndexOutOfBoundsException("slice [" + from + ", " + to + ") of " + size + " examples");
        }
        return new ImageDataset(source, images, labels, origins, first + from, to - from);
    }

    /** Number of batches of {@code batchSize}, counting a shorter last batch. */
    public int numBatches(int batchSize) {
        if (batchSize <= 0) {
            throw LmcException.usage("batch-size", "must be positive, got " + batchSize);
        }
        return (int) (((long) size + batchSize - 1) / batchSize);
    }

    /** Class index of example {@code i}. */
    public long label(int i) {
        return labels[first + checkIndex(i)];
    }

    /** Decoded, resized and normalized pixels of example {@code i}: [3, H, W] flattened. */
    public float[] pixels(int i, ImagePreprocessing prep) {
        int k = first + checkIndex(i);
        return ImageDecoder.pixels(images.get(k), prep, origins.get(k));
    }

    /** Batch {@code index}: pixels [B, 3, H, W] float32 and labels [B] int64 in {@code manager}. */
    public ImageBatch batch(NDManager manager, int index, int batchSize, ImagePreprocessing prep) {
        int start = index * batchSize;
        if (index < 0 || start >= size) {
            throw new IndexOutOfBoundsException("batch " + index + " of " + numBatches(batchSize));
        }
        int b = Math.min(batchSize, size - start);
        int per = 3 * prep.height() * prep.width();
        float[] px = new float[b * per];
        long[] lb = new long[b];
        for (int i = 0; i < b; i++) {
            System.arraycopy(pixels(start + i, prep), 0, px, i * per, per);
            lb[i] = label(start + i);
        }
        return new ImageBatch(manager.create(px, new Shape(b, 3, prep.height(), prep.width())), manager.create(lb));
    }

    /**
     * Checks every label lies in {@code [0, numLabels)}.
     *
     * @return this dataset
     * @throws LmcException INVALID_INPUT naming the example's file and row
     */
    public ImageDataset requireLabels(int numLabels) {
        for (int i = 0; i < size; i++) {
            long l = labels[first + i];
            if (l < 0 || l >= numLabels) {
                throw LmcException.invalidInput(origins.get(first + i), "label " + l
                        + " is outside the model's classes [0, " + numLabels + ")");
            }
        }
        return this;
    }

    /** Checks the dataset has at least one example; INVALID_INPUT naming the source otherwise. */
    public ImageDataset requireNonEmpty(String what) {
        if (size == 0) {
            throw LmcException.invalidInput(source, what + " has no examples");
        }
        return this;
    }

    private int checkIndex(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("example " + i + " of " + size);
        }
        return i;
    }
}
