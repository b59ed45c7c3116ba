package dev.lmcmerge.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lmcmerge.align.InterpolationPath;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.Canonicalizer;
import dev.lmcmerge.symmetry.Slot;
import dev.lmcmerge.symmetry.SlotKind;
import dev.lmcmerge.symmetry.Transform;
import dev.lmcmerge.symmetry.TransformSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where the time of one dual step goes, by libtorch operator: the step of {@link DualStep} run
 * once under libtorch's profiler (through DJL's {@code JniUtils.startProfile}), its Chrome
 * trace written to the build directory, and the operators' self time (time not spent in a nested
 * operator) summed by name. A diagnostic, not a target: it prints the top operators and one
 * figure, the share of self time spent in matrix products.
 *
 * <p>{@code LMC_BENCH_PROFILE_SHAPES} (any value) records operand shapes in the trace, for a
 * closer look at it. {@code LMC_BENCH_PROFILE_LAYERS} limits the depth (default: the shape's 12 layers) to
 * profile in less memory; per-layer shares stay the same, the embedding and head weigh more.
 */
final class StepProfile {
    private StepProfile() {
    }

    private static final Set<String> GEMMS = Set.of("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm",
            "aten::_scaled_dot_product_flash_attention_for_cpu", "aten::_scaled_dot_product_flash_attention_for_cpu_backward");

    static List<Figure> run(BenchContext ctx) {
        DualStep.Setup base = DualStep.setup(ctx);
        String layersEnv = System.getenv("LMC_BENCH_PROFILE_LAYERS");
        int layers = layersEnv == null ? base.cfg().numLayers() : Integer.parseInt(layersEnv);
        ModelConfig cfg = ModelConfig.parse(RandomModels.pythiaConfig(base.cfg().hiddenSize(), layers,
                base.cfg().numHeads(), base.cfg().intermediateSize(), base.cfg().vocabSize()), "bench:profile");
        Architecture arch = RandomModels.arch(cfg);
        TransformSpec spec = TransformSpec.forArchitecture(arch);
        Path trace = Path.of(System.getenv().getOrDefault("LMC_BENCH_ROOT", "."), "target", "step-profile.json");
        try (NDManager m = NDManager.newBaseManager()) {
            Weights ca = Canonicalizer.canonicalize(spec, RandomModels.randomWeights(arch, m));
            Weights cb = Canonicalizer.canonicalize(spec, RandomModels.randomWeights(arch, m));
            Transform[] t = DualStep.starts(spec, m);
            Set<String> learnedB = DualStep.continuous(t[1]);
            Set<String> learnedA = new LinkedHashSet<>(learnedB);
            learnedA.remove(Slot.nameOf(SlotKind.RESIDUAL_ROTATION, -1));
            NDArray ids = m.randomInteger(0, cfg.vocabSize(), new Shape(base.batch(), base.seq()), DataType.INT64);
            try (InterpolationPath path = new InterpolationPath(spec, arch, ca, cb, t[0], t[1], learnedA, learnedB)) {
                boolean graph = "graph".equals(System.getenv("LMC_BENCH_PROFILE_MODE"));
                java.util.function.Supplier<AutoCloseable> step = () -> graph ? path.graphGradients(ids, 0.5)
                        : path.streamingGradients(ids, 0.5);
                step.get().close(); // warm-up
                Files.createDirectories(trace.getParent());
                long start = System.nanoTime();
                JniUtils.startProfile(false, System.getenv("LMC_BENCH_PROFILE_SHAPES") != null, false);
                step.get().close();
                JniUtils.stopProfile(trace.toString());
                double seconds = (System.nanoTime() - start) / 1e9;
                return summarize(trace, seconds, layers);
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the profile " + trace, e);
        }
    }

    private record Event(String name, long thread, double ts, double dur) {
    }

    static List<Figure> summarize(Path trace, double seconds, int layers) throws IOException {
        JsonNode root = new ObjectMapper().readTree(trace.toFile());
        JsonNode events = root.isArray() ? root : root.path("traceEvents");
        List<Event> all = new ArrayList<>();
        for (JsonNode e : events) {
            if (e.has("dur") && "X".equals(e.path("ph").asText("X"))) {
                all.add(new Event(e.path("name").asText(), e.path("tid").asLong(), e.path("ts").asDouble(),
                        e.path("dur").asDouble()));
            }
        }
        // Self time: an event's duration minus that of the events directly nested in it (same thread).
        all.sort(Comparator.comparingLong(Event::thread).thenComparingDouble(Event::ts)
                .thenComparing(Comparator.comparingDouble(Event::dur).reversed()));
        Map<String, double[]> byName = new HashMap<>(); // self us, calls
        List<Event> stack = new ArrayList<>();
        Map<Event, Double> self = new HashMap<>();
        for (Event e : all) {
            while (!stack.isEmpty()) {
                Event top = stack.get(stack.size() - 1);
                if (top.thread() == e.thread() && e.ts() < top.ts() + top.dur()) {
                    break;
                }
                stack.remove(stack.size() - 1);
            }
            if (!stack.isEmpty()) {
                Event parent = stack.get(stack.size() - 1);
                self.merge(parent, -e.dur(), Double::sum);
            }
            self.merge(e, e.dur(), Double::sum);
            stack.add(e);
        }
        double total = 0;
        double gemm = 0;
        for (Map.Entry<Event, Double> s : self.entrySet()) {
            double[] acc = byName.computeIfAbsent(s.getKey().name(), k -> new double[2]);
            acc[0] += s.getValue();
            acc[1] += 1;
            total += s.getValue();
            if (GEMMS.contains(s.getKey().name())) {
                gemm += s.getValue();
            }
        }
        List<Map.Entry<String, double[]>> rows = new ArrayList<>(byName.entrySet());
        rows.sort((x, y) -> Double.compare(y.getValue()[0], x.getValue()[0]));
        System.out.printf("one dual step, %d layers, profiled: %.2f s wall (profiler on), %.2f s of operator self time;"
                + " trace %s%n", layers, seconds, total / 1e6, trace);
        System.out.printf("%-58s %9s %7s %7s%n", "operator", "self s", "share", "calls");
        for (int i = 0; i < Math.min(25, rows.size()); i++) {
            Map.Entry<String, double[]> r = rows.get(i);
            System.out.printf("%-58s %9.3f %6.1f%% %7d%n", r.getKey(), r.getValue()[0] / 1e6,
                    100 * r.getValue()[0] / total, (long) r.getValue()[1]);
        }
        System.out.printf("matrix products (%s): %.1f%% of operator self time%n", String.join(", ", GEMMS), 100 * gemm / total);
        List<Figure> out = new ArrayList<>();
        out.add(new Figure("step_profile_gemm_share", gemm / total, "ratio"));
        out.add(new Figure("step_profile_seconds", seconds, "s"));
        return out;
    }
}
