package dev.lmcmerge.dist;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.align.ActivationMatching;
import dev.lmcmerge.data.TokenDataset;
import dev.lmcmerge.model.Weights;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;

/**
 * Activation matching on an executor: model B's transform from the correlations of both models'
 * activations on a few training batches (align's {@link ActivationMatching}). One task, like
 * weight matching: its residual rotation couples all layers. The batches travel with the task.
 */
public final class ActivationMatchingJob {
    /** Training batches activation matching reads (align's default). */
    static final int BATCHES = 4;

    private ActivationMatchingJob() {}

    /** The task's input: row-major ids of each batch. */
    record Input(List<long[]> batches, List<Integer> rows, int seqLen) implements Serializable {}

    /** Runs the matching as one Spark task on the first {@value #BATCHES} training batches. */
    public static Map<String, FloatTensor> run(JavaSparkContext sc, JobContext ctx, TokenDataset train, int batchSize) {
        int n = Math.min(BATCHES, train.numBatches(batchSize));
        List<long[]> batches = new ArrayList<>();
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            batches.add(train.batchIds(i, batchSize));
            rows.add(train.batchRows(i, batchSize));
        }
        sc.setJobDescription("activation matching (B to A, " + n + " training batches)");
        return sc.parallelize(List.of(new Input(batches, rows, train.seqLen())), 1).map(new Task(ctx)).collect().get(0);
    }

    static final class Task implements Function<Input, Map<String, FloatTensor>> {
        private final JobContext ctx;

        Task(JobContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public Map<String, FloatTensor> call(Input in) {
            try (TaskScope ts = TaskScope.open(ctx);
                 ExecutorModelCache.Lease la = ExecutorModels.canonical(ctx, "a", ts.manager());
                 ExecutorModelCache.Lease lb = ExecutorModels.canonical(ctx, "b", ts.manager())) {
                NDManager m = ts.manager();
                ExecutorModels.Info info = ExecutorModels.info(ctx, "a");
                Weights a = la.view(m);
                Weights b = lb.view(m);
                List<NDArray> batches = new ArrayList<>();
                for (int i = 0; i < in.batches().size(); i++) {
                    batches.add(m.create(in.batches().get(i), new Shape(in.rows().get(i), in.seqLen())));
                }
                ActivationMatching.Result r = ActivationMatching.match(info.spec(), info.architecture(), a, b, batches,
                        ctx.slotGroups(), m);
                return TransformParams.of(r.transform());
            }
        }
    }
}
