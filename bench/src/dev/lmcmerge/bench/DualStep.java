package dev.lmcmerge.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.lmcmerge.align.InterpolationPath;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.TensorSpec;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.AxisRule;
import dev.lmcmerge.symmetry.Canonicalizer;
import dev.lmcmerge.symmetry.Permutation;
import dev.lmcmerge.symmetry.Slot;
import dev.lmcmerge.symmetry.SlotGroup;
import dev.lmcmerge.symmetry.SlotKind;
import dev.lmcmerge.symmetry.SlotRef;
import dev.lmcmerge.symmetry.TensorRule;
import dev.lmcmerge.symmetry.Transform;
import dev.lmcmerge.symmetry.TransformSpec;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * One dual-learning gradient step at a Pythia-160M shape (random weights) through align's
 * learned-matching step, {@link InterpolationPath#streamingGradients} (what every Spark task of
 * a step runs): both sides' transforms applied to their canonical weights, interpolated at
 * alpha 0.5, forward and backward by layer-block streaming, gradients of every continuous slot
 * of both sides (A's residual rotation anchored, as with {@code dual-anchor = residual-a}).
 *
 * <p>FLOPs counted as useful are the products the step performs: the model's matmuls forward
 * and backward (3 x forward, less the unembedding's weight gradient, which is never needed) plus
 * the transforms' own (each side's residual rotation, on the token embedding only for the rows
 * the batch uses; the unembedding's logits taken from rotated activations, a second T x d x V
 * product forward and backward; head maps forward; their parameter gradients backward). Block
 * streaming's recomputed forward is not counted: it is overhead the streamed step's ratio shows. Also measured in the same run, for the profile: the plain forward of
 * one model on the same batch, and one no-graph apply of both sides' transforms.
 */
final class DualStep {
    private DualStep() {
    }

    /** The setting of a step, shared with the PyTorch reference. */
    record Setup(ModelConfig cfg, int batch, int seq) {
        double tokens() {
            return (double) batch * seq;
        }
    }

    static Setup setup(BenchContext ctx) {
        return new Setup(RandomModels.pythia160m(), ctx.quick ? 1 : 4, 256);
    }

    /** Elements of the weight tensors with a residual axis (what the residual rotation multiplies). */
    static double residualElements(TransformSpec spec, Architecture arch) {
        double n = 0;
        for (TensorSpec t : arch.tensors()) {
            TensorRule r = spec.rule(t.name());
            if (r == null || t.tied()) {
                continue;
            }
            if (actsWith(r.out(), SlotKind.RESIDUAL_ROTATION) || actsWith(r.in(), SlotKind.RESIDUAL_ROTATION)) {
                double size = 1;
                for (long s : t.shape()) {
                    size *= s;
                }
                n += size;
            }
        }
        return n;
    }

    private static boolean actsWith(AxisRule a, SlotKind kind) {
        if (a == null) {
            return false;
        }
        for (SlotRef ref : a.slots()) {
            if (ref.kind() == kind) {
                return true;
            }
        }
        return false;
    }

    /** Useful FLOPs of one step (see the class comment). */
    static double stepFlops(Setup s, TransformSpec spec, Architecture arch) {
        ModelConfig c = s.cfg();
        double t = s.tokens();
        double d = c.hiddenSize();
        double v = c.vocabSize();
        // The model's products forward and backward (3 x forward), but the unembedding is a constant
        // canonical table here: its weight gradient (2 T d V) is never computed.
        double model = 3 * ForwardThroughput.flopsPerToken(c, s.seq()) * t - 2 * t * d * v;
        // O^T X for every residual axis, one side: the token table only for the rows a batch uses
        // (TokenRows), the unembedding not at all (its logits come from rotated activations).
        double tableRows = Math.min(t, v);
        double residual = 2 * d * (residualElements(spec, arch) - 2 * v * d + tableRows * d);
        double heads = c.numLayers() * 8.0 * c.headDim() * d * d; // q, k, v rows and o columns, one side
        // The head by activations: a second logits product forward and a second input gradient
        // backward (2 x 2 T d V), and the final activation rotated per side (2 T d^2 forward; its
        // input and B's rotation gradients backward).
        double head = 2 * 2 * t * d * v + 2 * 2 * t * d * d + 3 * 2 * t * d * d;
        double transforms = 2 * (residual + heads) // forward, both sides
                + residual // backward: gradient of B's rotation (A's is anchored)
                + 2 * 2 * heads // backward: gradients of both sides' head maps and of their inputs
                + head;
        return model + transforms;
    }

    /**
     * A's start (identity) and B's: a random element whose permutations are in index form, as
     * weight matching hands them to learning (the merge job's dual phase starts from there).
     */
    static Transform[] starts(TransformSpec spec, NDManager m) {
        Set<SlotGroup> all = SlotGroup.all();
        Transform a = Transform.identity(spec, all, m);
        Map<String, NDArray> pa = new LinkedHashMap<>(a.parameters());
        Set<SlotGroup> noFfn = EnumSet.copyOf(all);
        noFfn.remove(SlotGroup.FFN);
        Transform r = Transform.random(spec, noFfn, 7, m);
        Map<String, NDArray> p = new LinkedHashMap<>(r.parameters());
        Random rng = new Random(8);
        for (Slot s : spec.slots().values()) {
            if (s.kind().isPermutation() && p.containsKey(s.name()) || s.kind() == SlotKind.FFN_PERMUTATION) {
                Permutation perm = (Permutation) s.parameterization();
                if (a.parameters().containsKey(s.name())) {
                    pa.put(s.name(), identityIndices(s, perm, m));
                }
                float[] v = new float[s.count() * perm.size()];
                for (int c = 0; c < s.count(); c++) {
                    int[] idx = shuffled(perm.size(), rng);
                    for (int i = 0; i < idx.length; i++) {
                        v[c * perm.size() + i] = idx[i];
                    }
                }
                p.put(s.name(), m.create(v, s.indexShape()));
            }
        }
        return new Transform[] {Transform.of(spec, all, pa, m), Transform.of(spec, all, p, m)};
    }

    private static NDArray identityIndices(Slot s, Permutation perm, NDManager m) {
        float[] v = new float[s.count() * perm.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = i % perm.size();
        }
        return m.create(v, s.indexShape());
    }

    static int[] shuffled(int n, Random rng) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = out[i];
            out[i] = out[j];
            out[j] = t;
        }
        return out;
    }

    /** The slots that learn: every one but the permutations (as the merge job does). */
    static Set<String> continuous(Transform t) {
        Set<String> out = new LinkedHashSet<>();
        for (String s : t.parameters().keySet()) {
            if (!t.spec().slot(s).kind().isPermutation()) {
                out.add(s);
            }
        }
        return out;
    }

    private static final double GIB = 1024.0 * 1024 * 1024;

    /**
     * Median seconds of {@code step} after one warm-up, and in {@code extraGib[0]} how far the
     * process' resident memory rose above what it held just before that first (cold) step: the
     * step's own peak. Freed memory kept for reuse by a previous step (model.NativeAllocator) is
     * first given back by waiting out its trim delay. 0 where /proc/self/clear_refs is not writable.
     */
    static double timedStep(int reps, double[] extraGib, java.util.function.Supplier<InterpolationPath.Gradients> step) {
        Runnable body = () -> {
            try (InterpolationPath.Gradients g = step.get()) {
                if (!Double.isFinite(g.loss())) {
                    throw new IllegalStateException("non-finite loss " + g.loss());
                }
            }
        };
        try {
            Thread.sleep(6000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long before = ProcStatus.kb("VmRSS");
        boolean reset = ProcStatus.resetPeak();
        body.run();
        if (reset) {
            extraGib[0] = Math.max(0, ProcStatus.kb("VmHWM") - before) * 1024.0 / GIB;
        }
        return BenchContext.medianSeconds(0, reps, body);
    }

    static List<Figure> run(BenchContext ctx) {
        double peak = ctx.gemmPeak();
        Setup s = setup(ctx);
        ModelConfig cfg = s.cfg();
        Architecture arch = RandomModels.arch(cfg);
        TransformSpec spec = TransformSpec.forArchitecture(arch);
        List<Figure> out = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager()) {
            Weights ca = Canonicalizer.canonicalize(spec, RandomModels.randomWeights(arch, m));
            Weights cb = Canonicalizer.canonicalize(spec, RandomModels.randomWeights(arch, m));
            Transform[] t = starts(spec, m);
            Set<String> learnedB = continuous(t[1]);
            Set<String> learnedA = new LinkedHashSet<>(learnedB);
            learnedA.remove(Slot.nameOf(SlotKind.RESIDUAL_ROTATION, -1));
            NDArray ids = m.randomInteger(0, cfg.vocabSize(), new Shape(s.batch(), s.seq()), DataType.INT64);
            int reps = ctx.quick ? 3 : 5; // odd: the median is one measured step
            try (InterpolationPath path = new InterpolationPath(spec, arch, ca, cb, t[0], t[1], learnedA, learnedB)) {
                double[] streamingExtra = new double[1];
                double streaming = timedStep(reps, streamingExtra, () -> path.streamingGradients(ids, 0.5));
                double[] graphExtra = new double[1];
                double graph = timedStep(reps, graphExtra, () -> path.graphGradients(ids, 0.5));
                long budget = InterpolationPath.DEFAULT_GRAPH_MEMORY;
                boolean productGraph = path.graphBytesEstimate() <= budget;
                double step = productGraph ? graph : streaming;
                double flops = stepFlops(s, spec, arch);
                double rate = flops / step;
                // Breakdown, same run: plain forward of the interpolated model (no transforms, no graph)
                // and both sides' transforms applied once without a graph.
                boolean grad = JniUtils.isGradMode();
                JniUtils.setGradMode(false);
                double forward;
                double apply;
                try (NDManager sub = m.newSubManager()) {
                    Weights w = path.weightsAt(0.5, sub);
                    forward = BenchContext.medianSeconds(1, reps, () -> {
                        try (NDManager f = sub.newSubManager()) {
                            arch.forward(w, ids).attach(f);
                        }
                    });
                    apply = BenchContext.medianSeconds(0, reps, () -> {
                        try (NDManager f = sub.newSubManager()) {
                            path.weightsAt(0.5, f).close();
                        }
                    });
                } finally {
                    JniUtils.setGradMode(grad);
                }
                double fwdFlops = ForwardThroughput.flopsPerToken(cfg, s.seq()) * s.tokens();
                System.out.printf("shape pythia-160m, batch %d x seq %d, every slot group, dual (A's rotation anchored)%n",
                        s.batch(), s.seq());
                System.out.printf("%-44s %10s %12s%n", "part", "seconds", "GFLOP/s");
                System.out.printf("%-44s %10.3f %12.1f   peak +%.2f GiB%n", "dual step, one graph (graphGradients)", graph,
                        flops / graph / 1e9, graphExtra[0]);
                System.out.printf("%-44s %10.3f %12.1f   peak +%.2f GiB%n", "dual step, streamed (streamingGradients)",
                        streaming, flops / streaming / 1e9, streamingExtra[0]);
                System.out.printf("%-44s %10.3f %12.1f%n", "  plain forward, no graph (same batch)", forward, fwdFlops / forward / 1e9);
                System.out.printf("%-44s %10.3f %12s%n", "  transforms of both sides + lerp, no graph", apply, "-");
                System.out.printf("the merge job takes the %s step here (graph estimate %.2f GiB, default budget %.2f GiB);"
                        + " step / plain forward: %.2f%n", productGraph ? "one-graph" : "streamed",
                        path.graphBytesEstimate() / GIB, budget / GIB, step / forward);
                System.out.printf("useful FLOPs %.1f G, GEMM peak %.1f GFLOP/s%n", flops / 1e9, peak / 1e9);
                out.add(new Figure("step_seconds_160m", step, "s"));
                out.add(new Figure("step_gflops_160m", rate / 1e9, "GFLOP/s"));
                out.add(new Figure("step_gemm_ratio", rate / peak, "ratio"));
                out.add(new Figure("step_over_forward_160m", step / forward, "ratio"));
                out.add(new Figure("step_streaming_seconds_160m", streaming, "s"));
                out.add(new Figure("step_streaming_gemm_ratio", flops / streaming / peak, "ratio"));
                out.add(new Figure("step_graph_peak_extra_gib_160m", graphExtra[0], "GiB"));
                out.add(new Figure("step_streaming_peak_extra_gib_160m", streamingExtra[0], "GiB"));
                out.add(new Figure("step_transforms_apply_s_160m", apply, "s"));
                ctx.record("step_seconds", step);
            }
        }
        return out;
    }
}
