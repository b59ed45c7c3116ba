package dev.lmcmerge.dist;

import ai.djl.ndarray.NDManager;
import dev.lmcmerge.align.WeightMatching;
import dev.lmcmerge.model.Weights;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;

/**
 * Weight matching (no data) on an executor: model B's transform that brings its canonical
 * weights closest to model A's. Its alternating rounds couple every layer through the shared
 * residual rotation, and align's matcher works on the whole model, so it runs as one task on the
 * executor that caches both canonical forms; the driver only receives the parameters.
 */
public final class WeightMatchingJob {
    private WeightMatchingJob() {}

    /** B's transform parameters and the matching distances. */
    public record Result(Map<String, FloatTensor> paramsB, double distanceBefore, double distanceAfter, int rounds)
            implements Serializable {}

    /** Runs the matching as one Spark task. */
    public static Result run(JavaSparkContext sc, JobContext ctx, int maxIterations) {
        sc.setJobDescription("weight matching (B to A, " + ctx.groups().size() + " symmetry groups)");
        return sc.parallelize(List.of(maxIterations), 1).map(new Task(ctx)).collect().get(0);
    }

    static final class Task implements Function<Integer, Result> {
        private final JobContext ctx;

        Task(JobContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public Result call(Integer maxIterations) {
            try (TaskScope ts = TaskScope.open(ctx);
                 ExecutorModelCache.Lease la = ExecutorModels.canonical(ctx, "a", ts.manager());
                 ExecutorModelCache.Lease lb = ExecutorModels.canonical(ctx, "b", ts.manager())) {
                NDManager m = ts.manager();
                Weights a = la.view(m);
                Weights b = lb.view(m);
                // Progress goes to the executor's stdout (the console in local mode, the executor log on a cluster).
                WeightMatching.Result r = WeightMatching.match(ExecutorModels.info(ctx, "a").spec(), a, b,
                        ctx.slotGroups(), maxIterations, m, msg -> {
                            System.out.println(msg);
                            System.out.flush();
                        });
                return new Result(TransformParams.of(r.transform()), r.distanceBefore(), r.distanceAfter(), r.rounds());
            }
        }
    }
}
