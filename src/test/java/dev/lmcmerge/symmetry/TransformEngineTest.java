package dev.lmcmerge.symmetry;

import static dev.lmcmerge.symmetry.TinyModels.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Architectures;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.Weights;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The generic engine preserves every family's function (float32 logits within 1e-4) for every
 * slot group alone and all together, on tiny random models (random norm affines) and on the
 * reference checkpoints.
 */
class TransformEngineTest {
    private static final double TOL = 1e-4;
    private static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    /** A model under test: its architecture, weights and config.json. */
    record Model(String name, Architecture arch, Weights weights, JsonNode config) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Model model(String name) {
        if (name.startsWith("reference ")) {
            String family = name.substring("reference ".length());
            TinyModels.Loaded l = TinyModels.loadFolder(TinyModels.referenceFolder(family), manager);
            return new Model(name, l.arch(), l.weights(), l.config());
        }
        Architecture arch = TinyModels.tinyArchitecture(name);
        return new Model(name, arch, TinyModels.randomWeights(arch, name.hashCode(), manager), TinyModels.configJson(name));
    }

    static List<String> modelNames() {
        List<String> out = new ArrayList<>(List.of("gpt_neox", "gpt_neox_sequential", "gpt_neox_nobias", "llama", "qwen2", "gpt2", "vit"));
        for (String f : TinyModels.FAMILIES) {
            out.add("reference " + f);
        }
        return out;
    }

    static Stream<Arguments> modelsAndGroups() {
        List<Arguments> out = new ArrayList<>();
        for (String m : modelNames()) {
            for (SlotGroup g : SlotGroup.values()) {
                out.add(Arguments.of(m, EnumSet.of(g)));
            }
            out.add(Arguments.of(m, SlotGroup.all()));
        }
        return out.stream();
    }

    /** The architecture of the exported model: the exporter's config.json (eps x c^2, untied). */
    static Architecture exportedArchitecture(TransformSpec spec, JsonNode config, double epsScale) {
        JsonNode exported = new HfExporter(spec, config).epsScale(epsScale).exportedConfig();
        return Architectures.of(ModelConfig.parse(exported, "exported config"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelNames")
    void canonicalFormPreservesTheForward(String name) {
        Model m = model(name);
        TransformSpec spec = TransformSpec.forArchitecture(m.arch());
        Weights canonical = Canonicalizer.canonicalize(spec, m.weights());
        NDArray input = TinyModels.input(m.arch(), manager, 7);
        double diff = ExactnessCheck.verifyPreserved(m.arch(), m.weights(), canonical, input, TOL);
        assertTrue(diff <= TOL);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("modelsAndGroups")
    void randomElementPreservesTheForward(String name, Set<SlotGroup> groups) {
        Model m = model(name);
        TransformSpec spec = TransformSpec.forArchitecture(m.arch());
        Weights canonical = Canonicalizer.canonicalize(spec, m.weights());
        Transform t = Transform.random(spec, groups, 11, manager);
        Weights transformed = TransformEngine.apply(spec, t, canonical);
        NDArray input = TinyModels.input(m.arch(), manager, 3);
        Architecture after = exportedArchitecture(spec, m.config(), t.epsScale());
        ExactnessCheck.verifyPreserved(m.arch(), m.weights(), after, transformed, input, TOL);
        // and the element really moved the weights (not the identity by accident)
        double moved = 0;
        for (String n : canonical.names()) {
            if (canonical.get(n).getShape().equals(transformed.get(n).getShape())) {
                moved = Math.max(moved, maxAbsDiff(canonical.get(n), transformed.get(n)));
            }
        }
        assertTrue(moved > 1e-2, "transform " + groups + " left the weights unchanged (max change " + moved + ")");
    }

    @Test
    void identityElementLeavesCanonicalWeightsUnchanged() {
        Model m = model("llama");
        TransformSpec spec = TransformSpec.forArchitecture(m.arch());
        Weights canonical = Canonicalizer.canonicalize(spec, m.weights());
        Weights same = TransformEngine.apply(spec, Transform.identity(spec, SlotGroup.all(), manager), canonical);
        for (String n : canonical.names()) {
            assertTrue(maxAbsDiff(canonical.get(n), same.get(n)) < 1e-6, n);
        }
    }

    @Test
    void oneBlockAloneMatchesTheFullApply() {
        Model m = model("gpt_neox");
        TransformSpec spec = TransformSpec.forArchitecture(m.arch());
        Weights canonical = Canonicalizer.canonicalize(spec, m.weights());
        Transform t = Transform.random(spec, SlotGroup.all(), 4, manager);
        Weights full = TransformEngine.apply(spec, t, canonical);
        List<String> block = m.arch().tensors().stream().filter(s -> s.layer() == 1).map(s -> s.name()).toList();
        Weights part = TransformEngine.apply(spec, t, canonical, block);
        assertEquals(Set.copyOf(block), part.names());
        for (String n : block) {
            assertEquals(0.0, maxAbsDiff(full.get(n), part.get(n)), n);
        }
    }

    @Test
    void transformKeepsNamesAndShapes() {
        Model m = model("gpt2");
        TransformSpec spec = TransformSpec.forArchitecture(m.arch());
        Weights canonical = Canonicalizer.canonicalize(spec, m.weights());
        Weights t = TransformEngine.apply(spec, Transform.random(spec, SlotGroup.all(), 5, manager), canonical);
        assertEquals(canonical.names(), t.names());
        for (String n : canonical.names()) {
            assertEquals(canonical.get(n).getShape(), t.get(n).getShape(), n);
        }
    }

    @Test
    void learningPathGivesTheSameWeightsAndGradientsReachEverySlot() {
        Model m = model("llama");
        TransformSpec spec = TransformSpec.forArchitecture(m.arch());
        Weights canonical = Canonicalizer.canonicalize(spec, m.weights());
        Transform fixed = Transform.random(spec, SlotGroup.all(), 9, manager);
        Weights byGather = TransformEngine.apply(spec, fixed, canonical);
        try (GradientCollector gc = manager.getEngine().newGradientCollector()) {
            for (NDArray p : fixed.parameters().values()) {
                p.setRequiresGradient(true);
            }
            Weights byMatrix = TransformEngine.apply(spec, fixed, canonical);
            for (String n : canonical.names()) {
                assertTrue(maxAbsDiff(byGather.get(n), byMatrix.get(n)) < 1e-5, n);
            }
            // The forward is invariant under the group (zero gradient), so probe with a random
            // linear functional of the transformed weights instead.
            NDArray loss = null;
            int k = 0;
            for (String n : byMatrix.names()) {
                NDArray w = byMatrix.get(n);
                NDArray probe = manager.randomNormal(w.getShape()).mul(1 + (k++ % 3));
                NDArray term = w.mul(probe).sum();
                loss = loss == null ? term : loss.add(term);
            }
            gc.backward(loss);
        }
        for (Map.Entry<String, NDArray> e : fixed.parameters().entrySet()) {
            NDArray g = e.getValue().getGradient();
            assertTrue(g.abs().max().getFloat() > 0, "no gradient reached slot " + e.getKey());
        }
    }
}
