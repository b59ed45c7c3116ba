package dev.lmcmerge.dist;

import dev.lmcmerge.data.TokenDataset;
import java.util.ArrayList;
import java.util.List;

/**
 * How a run's data is cut: the training sequences of the learned steps and the held-out
 * batches of the barrier curves, and the partitions each is spread over. The numbers are
 * fixed by the configuration (batch size, max batches), never by the cluster: a step's batch is
 * split over {@link #stepPartitions} tasks, and the result is the same (up to float rounding)
 * for any split.
 *
 * @param train           training sequences (held on the driver; only one step's batch is shipped at a time)
 * @param eval            held-out sequences
 * @param trainSource     where the training sequences came from, e.g. "eval.txt (train split, 90%)"
 * @param evalSource      where the held-out sequences came from
 * @param batchSize       sequences per batch
 * @param evalBatches     held-out batches evaluated per (method, alpha)
 * @param evalPartitions  tasks per (method, alpha)
 * @param stepPartitions  tasks per learned step
 */
public record DataPlan(TokenDataset train, TokenDataset eval, String trainSource, String evalSource, int batchSize,
                       int evalBatches, int evalPartitions, int stepPartitions) {

    /** Held-out sequences evaluated per (method, alpha): the first {@code evalBatches} batches. */
    public int evalSequences() {
        return Math.min(eval.size(), evalBatches * batchSize);
    }

    /** The held-out sequences {@code [from, to)} of each eval partition, contiguous and in order. */
    public List<int[]> evalRanges() {
        return ranges(evalSequences(), evalPartitions);
    }

    /** Cuts {@code n} items into {@code parts} contiguous ranges whose sizes differ by at most one. */
    static List<int[]> ranges(int n, int parts) {
        List<int[]> out = new ArrayList<>(parts);
        int p = Math.max(1, Math.min(parts, n));
        for (int i = 0; i < p; i++) {
            out.add(new int[] {(int) ((long) n * i / p), (int) ((long) n * (i + 1) / p)});
        }
        return out;
    }
}
