package dev.lmcmerge.dist;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lmcmerge.config.ComputeConfig;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.FileSystems;
import dev.lmcmerge.io.HfCheckpointWriter;
import dev.lmcmerge.io.TensorSource;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Architectures;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.TensorSpec;
import dev.lmcmerge.symmetry.SlotGroup;
import dev.lmcmerge.symmetry.Transform;
import dev.lmcmerge.symmetry.TransformSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * Spark's per-step overhead (issue 6 and 8): one learned-matching gradient step through
 * {@link GradientStepJob#run} (local Spark, one task slot, one partition: broadcast of the learned
 * parameters, the task, treeAggregate of the gradients) over the very same step computed in
 * process by {@link GradientStepJob#compute} on the same executor model cache. Both sides are
 * warmed (weights cached) before timing. Lives in package dist (bench source root) to reach the
 * package-private per-part function the executors run.
 */
public final class SparkStepOverhead {
    private SparkStepOverhead() {
    }

    /** Result rows: name, in-process seconds, distributed seconds. */
    public record Row(String name, double inProcess, double distributed) {
        public double ratio() {
            return distributed / inProcess;
        }
    }

    /**
     * Measures at a GPT-NeoX shape, once with every slot group learned and once without the FFN
     * permutations (whose dense n x n latents dominate the bytes a step ships).
     */
    public static List<Row> run(ObjectNode config, String shapeName, int rows, int seq, int reps, Path tmp) {
        Configuration conf = new Configuration();
        String a = tmp.resolve("a").toString();
        String b = tmp.resolve("b").toString();
        write(a, config, 1, conf);
        write(b, config, 2, conf);
        SparkSession spark = SparkSession.builder().master("local[1]").appName("bench-spark-step")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.maxResultSize", "0")
                .getOrCreate();
        List<Row> out = new ArrayList<>();
        try {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            EnumSet<SlotGroup> all = EnumSet.copyOf(SlotGroup.all());
            EnumSet<SlotGroup> noFfn = EnumSet.copyOf(all);
            noFfn.removeIf(g -> g.name().startsWith("FFN"));
            spark.sparkContext().setLogLevel("WARN");
            out.add(measure(sc, a, b, noFfn, shapeName + "_no_ffn_perm", rows, seq, reps, tmp));
            if (shapeName.equals("small")) {
                // Learned FFN permutations ship n x n latents and their gradients every step; at the
                // 160M shape (n = 3072) that is 450 MB each way, a configuration the docs advise against
                // for wide FFNs (lmc.align.learned-symmetries), so it is measured on the small shape only.
                out.add(measure(sc, a, b, all, shapeName + "_all_slots", rows, seq, reps, tmp));
            }
        } finally {
            spark.stop();
        }
        return out;
    }

    private static Row measure(JavaSparkContext sc, String a, String b, Set<SlotGroup> groups, String name,
                               int rows, int seq, int reps, Path tmp) {
        JobContext ctx = new JobContext(FileSystems.resolve(a).toString(), FileSystems.resolve(b).toString(),
                "CAYLEY", groups.stream().map(Enum::name).toList(), ComputeConfig.Device.CPU, 0, 8L << 30,
                dev.lmcmerge.align.InterpolationPath.DEFAULT_GRAPH_MEMORY, Map.of(), "bench-" + name, JobContext.Forms.ALL);
        Map<String, FloatTensor> pa;
        Map<String, FloatTensor> pb;
        try (NDManager m = NDManager.newBaseManager()) {
            TransformSpec spec = ExecutorModels.info(ctx, "a").spec();
            pa = TransformParams.of(Transform.identity(spec, groups, m));
            pb = TransformParams.of(Transform.random(spec, groups, 7, m));
        }
        long[] ids = new long[rows * seq];
        Random rng = new Random(3);
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt(256);
        }
        GradientStepJob.Part part = new GradientStepJob.Part(ids, rows, seq);
        GradientStepJob.Params params = new GradientStepJob.Params(pa, pb);
        double alpha = 0.5;
        Supplier<Object> local = () -> GradientStepJob.compute(ctx, List.of(), List.of(), params, pa.keySet(),
                pb.keySet(), alpha, part);
        Broadcast<GradientStepJob.Setup> fixed = sc.broadcast(new GradientStepJob.Setup(List.of(), List.of(),
                new GradientStepJob.Params(Map.of(), Map.of())));
        Supplier<Object> dist = () -> GradientStepJob.run(sc, ctx, fixed,
                new GradientStepJob.Params(new LinkedHashMap<>(pa), new LinkedHashMap<>(pb)), alpha,
                List.of(part), "bench step " + name);
        double tl = median(local, reps);
        double td = median(dist, reps);
        double tl2 = median(local, reps); // in-process again: the machine's drift shows as tl vs tl2
        fixed.destroy();
        return new Row(name, Math.min(tl, tl2), td);
    }

    private static double median(Supplier<Object> body, int reps) {
        body.get(); // warm: model cache, libtorch kernels
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long s = System.nanoTime();
            body.get();
            t[i] = (System.nanoTime() - s) / 1e9;
        }
        java.util.Arrays.sort(t);
        return t[reps / 2];
    }

    /** Random-weight checkpoint (weights N(0, 1/fan_in), norms near 1) as one F32 safetensors file. */
    static void write(String dir, ObjectNode cfgJson, long seed, Configuration conf) {
        Architecture arch = Architectures.of(ModelConfig.parse(cfgJson, "bench"));
        Random rng = new Random(seed);
        List<TensorSource> sources = new ArrayList<>();
        for (TensorSpec t : arch.tensors()) {
            if (t.tied()) {
                continue;
            }
            long[] s = t.shape();
            float[] v = new float[(int) t.numel()];
            boolean norm = t.role() == TensorSpec.Role.NORM;
            double std = s.length >= 2 ? 1 / Math.sqrt((double) v.length / s[0]) : 0.02;
            for (int i = 0; i < v.length; i++) {
                v[i] = norm && t.name().endsWith("weight") ? 1f : (float) (std * rng.nextGaussian());
            }
            sources.add(TensorSource.ofFloats(t.name(), s, v, DType.F32));
        }
        HfCheckpointWriter.to(dir, conf).write(cfgJson, sources);
    }

    static Path tempDir() {
        try {
            return Files.createTempDirectory("lmc-bench-spark");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
