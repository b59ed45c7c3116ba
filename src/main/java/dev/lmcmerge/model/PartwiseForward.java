package dev.lmcmerge.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import java.util.List;

/**
 * The forward pass of a model whose weights are made one part at a time (embedding, each block,
 * head; see {@link ModelParts}) and dropped after use: a transformed or interpolated model is
 * never whole in memory, only one part of it plus the hidden states. The batches go through
 * each part together, so each part's weights are made once per call whatever the number of
 * batches. Without a graph.
 */
public final class PartwiseForward {
    private PartwiseForward() {}

    /** Makes the weights of some tensors; every array it creates must live under {@code scope}. */
    @FunctionalInterface
    public interface PartSource {
        Weights part(List<String> names, NDManager scope);

        /**
         * The tensors {@code names} with the token embedding made for just {@code rows} (see
         * {@link TokenRows}); by default the whole table, selected afterwards.
         */
        default Weights part(List<String> names, TokenRows rows, NDManager scope, String table) {
            Weights w = part(names, scope);
            if (w.has(table)) {
                w.put(table, rows.select(w.get(table)));
            }
            return w;
        }
    }

    /** Receives each batch's logits (valid only during the call) with its input. */
    @FunctionalInterface
    public interface LogitsConsumer {
        void accept(int batch, NDArray logits, NDArray input);
    }

    /**
     * Runs every batch of {@code inputs} through the model and hands each batch's logits to
     * {@code consumer}. Peak memory: one part's weights, the hidden states of all batches, one
     * batch's activations.
     *
     * @param arch    the architecture (its eps may differ from the base, e.g. a residual scale)
     * @param parts   the tensors of each part
     * @param source  makes a part's weights
     * @param inputs  the batches (token ids [B, T] or pixel values), owned by the caller
     * @param manager parent of every scope this call opens
     */
    public static void run(Architecture arch, ModelParts parts, PartSource source, List<NDArray> inputs,
                           NDManager manager, LogitsConsumer consumer) {
        try (NDManager run = manager.newSubManager()) {
            int n = inputs.size();
            NDArray[] hidden = new NDArray[n];
            try (NDManager s = run.newSubManager()) {
                // Token ids: the table is made for the rows the batches use (TokenRows), all batches at once.
                String table = arch.tokenEmbedding();
                TokenRows rows = table == null ? null : TokenRows.of(NDArrays.concat(flat(inputs)), s);
                Weights w = rows == null ? source.part(parts.embed(), s) : source.part(parts.embed(), rows, s, table);
                long offset = 0;
                for (int b = 0; b < n; b++) {
                    try (NDManager sb = s.newSubManager()) {
                        borrow(w, sb);
                        NDArray in = inputs.get(b);
                        in.tempAttach(sb);
                        NDArray ids = in;
                        if (rows != null) {
                            long size = in.getShape().size();
                            ids = rows.renumbered().get(offset + ":" + (offset + size)).reshape(in.getShape());
                            offset += size;
                        }
                        hidden[b] = arch.embed(w, ids);
                        hidden[b].attach(run);
                    }
                }
            }
            for (int l = 0; l < parts.layers(); l++) {
                try (NDManager s = run.newSubManager()) {
                    Weights w = source.part(parts.block(l), s);
                    for (int b = 0; b < n; b++) {
                        NDArray in = hidden[b];
                        try (NDManager sb = s.newSubManager()) {
                            borrow(w, sb);
                            in.attach(sb); // freed with the batch's activations
                            hidden[b] = arch.block(l, w, in);
                            hidden[b].attach(run);
                        }
                    }
                }
            }
            try (NDManager s = run.newSubManager()) {
                Weights w = source.part(parts.head(), s);
                for (int b = 0; b < n; b++) {
                    try (NDManager sb = s.newSubManager()) {
                        borrow(w, sb);
                        hidden[b].attach(sb);
                        inputs.get(b).tempAttach(sb);
                        consumer.accept(b, arch.head(w, hidden[b]), inputs.get(b));
                    }
                }
            }
        }
    }

    /** Each input flattened to one dimension (views sharing its manager). */
    private static ai.djl.ndarray.NDList flat(List<NDArray> inputs) {
        ai.djl.ndarray.NDList out = new ai.djl.ndarray.NDList();
        for (NDArray in : inputs) {
            out.add(in.reshape(-1));
        }
        return out;
    }

    /**
     * Temporarily attaches every array of {@code w} to {@code scope}: DJL puts an op's result in
     * its first operand's manager, so without this a forward pass would leave its activations in
     * the weights' manager until the part ends.
     */
    public static void borrow(Weights w, NDManager scope) {
        for (NDArray a : w.asMap().values()) {
            if (a.getManager() != scope) {
                a.tempAttach(scope);
            }
        }
    }
}
