package dev.lmcmerge.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;

/**
 * The distinct token ids of a batch and the batch renumbered into them: the embedding lookup
 * {@code E[ids]} equals {@code E[rows][renumbered]}, and any transform that acts on the
 * embedding's residual axis acts on each row alone, so transforming {@code E[rows]} (a few
 * hundred rows) gives exactly the rows of the transformed table (tens of thousands).
 *
 * @param rows       distinct ids in increasing order, int64 [U]
 * @param renumbered the batch's ids as positions in {@code rows}, int64, the batch's shape
 */
public record TokenRows(NDArray rows, NDArray renumbered) {

    /** The rows of {@code ids} (any integer array), new arrays in {@code m}. */
    public static TokenRows of(NDArray ids, NDManager m) {
        long[] v = ids.toType(DataType.INT64, false).toLongArray();
        long[] distinct = Arrays.stream(v).distinct().sorted().toArray();
        long[] pos = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            pos[i] = Arrays.binarySearch(distinct, v[i]);
        }
        return new TokenRows(m.create(distinct), m.create(pos, ids.getShape()));
    }

    /** The rows of {@code table} this batch uses, [U, d]. */
    public NDArray select(NDArray table) {
        return Nn.embedding(rows, table);
    }
}
