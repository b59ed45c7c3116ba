package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.align.InterpolationPath;
import dev.lmcmerge.config.ComputeConfig;
import dev.lmcmerge.io.FileSystems;
import dev.lmcmerge.model.ModelLoader;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.Canonicalizer;
import dev.lmcmerge.symmetry.SlotGroup;
import dev.lmcmerge.symmetry.Transform;
import dev.lmcmerge.symmetry.TransformSpec;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A distributed step's gradients (tasks on partitions of the batch, tree-aggregated) equal the
 * single-process gradients of the whole batch, whatever the number of partitions.
 */
class DistributedGradientsTest {
    @TempDir
    static Path tmp;

    static JobContext ctx;
    static Map<String, FloatTensor> paramsA;
    static Map<String, FloatTensor> paramsB;
    static Set<String> learned;
    static long[] ids;
    static final int ROWS = 6;
    static final int SEQ = 12;
    static final double ALPHA = 0.37;

    @BeforeAll
    static void models() {
        Configuration conf = new Configuration();
        TinyCheckpoints.write(tmp.resolve("a").toString(), TinyCheckpoints.CONFIG, 21, conf);
        TinyCheckpoints.write(tmp.resolve("b").toString(), TinyCheckpoints.CONFIG, 22, conf);
        List<String> groups = SlotGroup.all().stream().map(Enum::name).toList();
        ctx = new JobContext(FileSystems.resolve(tmp.resolve("a").toString()).toString(),
                FileSystems.resolve(tmp.resolve("b").toString()).toString(), "CAYLEY", groups,
                ComputeConfig.Device.CPU, 0, 64L << 20, 0L, Map.of(), "gradients-test", JobContext.Forms.ALL);
        try (NDManager m = NDManager.newBaseManager()) {
            TransformSpec spec = ExecutorModels.info(ctx, "a").spec();
            // Random elements away from the identity, so no gradient vanishes by symmetry.
            paramsA = TransformParams.of(Transform.random(spec, SlotGroup.all(), 3, m));
            paramsB = TransformParams.of(Transform.random(spec, SlotGroup.all(), 4, m));
        }
        // Every slot learns, permutations (straight-through) included, as align's learned matching does.
        learned = new java.util.LinkedHashSet<>(paramsA.keySet());
        Random rng = new Random(5);
        ids = new long[ROWS * SEQ];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt(256);
        }
    }

    /** The whole batch in one process, one autograd graph: the reference. */
    static GradientStepJob.Result singleProcess() {
        try (NDManager m = NDManager.newBaseManager();
             ModelLoader.LoadedModel a = ModelLoader.open(tmp.resolve("a").toString(), m);
             ModelLoader.LoadedModel b = ModelLoader.open(tmp.resolve("b").toString(), m)) {
            TransformSpec spec = TransformSpec.forArchitecture(a.architecture());
            Weights ca = Canonicalizer.canonicalize(spec, a.weights());
            Weights cb = Canonicalizer.canonicalize(spec, b.weights());
            Transform ta = ExecutorModels.transform(ctx, ExecutorModels.info(ctx, "a"), paramsA, m);
            Transform tb = ExecutorModels.transform(ctx, ExecutorModels.info(ctx, "a"), paramsB, m);
            try (InterpolationPath path = new InterpolationPath(spec, a.architecture(), ca, cb, ta, tb, learned, learned)) {
                NDArray x = m.create(ids, new Shape(ROWS, SEQ));
                try (InterpolationPath.Gradients g = path.wholeGraphGradients(x, ALPHA)) {
                    return new GradientStepJob.Result(g.loss(), ROWS * (SEQ - 1L), plain(g.a()), plain(g.b()));
                }
            }
        }
    }

    static Map<String, FloatTensor> plain(Map<String, NDArray> g) {
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        g.forEach((k, v) -> out.put(k, new FloatTensor(v.getShape().getShape(),
                v.toType(DataType.FLOAT32, false).toFloatArray())));
        return out;
    }

    static GradientStepJob.Result distributed(int partitions) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(LocalSpark.get().sparkContext());
        Map<String, FloatTensor> fixedA = new LinkedHashMap<>(paramsA);
        Map<String, FloatTensor> fixedB = new LinkedHashMap<>(paramsB);
        Map<String, FloatTensor> learnA = new LinkedHashMap<>();
        Map<String, FloatTensor> learnB = new LinkedHashMap<>();
        for (String s : learned) {
            learnA.put(s, fixedA.remove(s));
            learnB.put(s, fixedB.remove(s));
        }
        Broadcast<GradientStepJob.Setup> fixed = sc.broadcast(new GradientStepJob.Setup(List.of(), List.of(),
                new GradientStepJob.Params(fixedA, fixedB)));
        try {
            return GradientStepJob.run(sc, ctx, fixed, new GradientStepJob.Params(learnA, learnB), ALPHA,
                    GradientStepJob.split(ids, ROWS, SEQ, partitions), "test step, " + partitions + " partitions");
        } finally {
            fixed.destroy();
        }
    }

    static void assertClose(GradientStepJob.Result expected, GradientStepJob.Result actual, String what) {
        assertEquals(expected.predictions(), actual.predictions(), what + ": predicted tokens");
        assertEquals(expected.loss(), actual.loss(), 1e-5 * Math.abs(expected.loss()), what + ": loss");
        compare(expected.gradA(), actual.gradA(), what + " A");
        compare(expected.gradB(), actual.gradB(), what + " B");
    }

    static void compare(Map<String, FloatTensor> e, Map<String, FloatTensor> a, String what) {
        assertEquals(e.keySet(), a.keySet(), what + " slots");
        for (String k : e.keySet()) {
            float[] x = e.get(k).values();
            float[] y = a.get(k).values();
            double diff = 0;
            double norm = 0;
            for (int i = 0; i < x.length; i++) {
                diff += (x[i] - y[i]) * (double) (x[i] - y[i]);
                norm += x[i] * (double) x[i];
            }
            assertTrue(norm > 0, what + " " + k + ": zero gradient, nothing compared");
            assertTrue(Math.sqrt(diff / norm) <= 1e-4, what + " " + k + ": relative error " + Math.sqrt(diff / norm));
        }
    }

    @Test
    void distributedGradientsEqualSingleProcessGradientsOfTheSameBatch() {
        assertClose(singleProcess(), distributed(2), "2 partitions vs one process");
    }

    @Test
    void gradientsDoNotDependOnTheNumberOfPartitions() {
        GradientStepJob.Result one = distributed(1);
        assertClose(one, distributed(3), "3 partitions vs 1");
        assertClose(one, distributed(ROWS), ROWS + " partitions vs 1");
    }
}
