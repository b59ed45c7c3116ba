package dev.lmcmerge.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.lmcmerge.data.TokenDataset;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Losses;
import dev.lmcmerge.model.Weights;
import java.util.function.Consumer;

/**
 * The loss curve of a merge path: for each alpha of a grid, the mean next-token cross-entropy of
 * W(alpha) = (1 - alpha) a + alpha b over the first {@code maxBatches} batches of a dataset
 * (exact mean over predicted tokens, independent of the batch size).
 */
public final class PathCurve {
    private PathCurve() {
    }

    /**
     * @param maxBatches batches per alpha (0: all)
     * @param log        one line per alpha, or null
     */
    public static double[] losses(Endpoints e, double[] alphas, TokenDataset data, int batchSize, int maxBatches,
                                  Consumer<String> log) {
        int n = data.numBatches(batchSize);
        if (maxBatches > 0) {
            n = Math.min(n, maxBatches);
        }
        if (n == 0) {
            throw dev.lmcmerge.config.LmcException.invalidInput(data.source(), "no evaluation sequences");
        }
        double[] out = new double[alphas.length];
        for (int i = 0; i < alphas.length; i++) {
            out[i] = loss(e, alphas[i], data, batchSize, n);
            if (log != null) {
                log.accept(String.format(java.util.Locale.ROOT, "%s alpha %.3f: loss %.5f", e.method(), alphas[i], out[i]));
            }
        }
        return out;
    }

    /** Mean loss of W(alpha) over the first {@code batches} batches. */
    public static double loss(Endpoints e, double alpha, TokenDataset data, int batchSize, int batches) {
        Architecture arch = e.architectureAt(alpha);
        double sum = 0;
        long count = 0;
        try (Weights w = e.at(alpha)) {
            for (int bi = 0; bi < batches; bi++) {
                try (NDManager s = w.manager().newSubManager()) {
                    NDArray ids = data.batch(s, bi, batchSize);
                    sum += Losses.causalLmSum(arch.forward(w, ids), ids).toType(DataType.FLOAT64, false).getDouble();
                    count += Losses.predictedTokens(ids);
                }
            }
        }
        return sum / count;
    }
}
