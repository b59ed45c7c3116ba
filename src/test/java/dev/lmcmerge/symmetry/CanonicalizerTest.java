package dev.lmcmerge.symmetry;

import static dev.lmcmerge.symmetry.TinyModels.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.TensorSpec;
import dev.lmcmerge.model.Weights;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The canonical form: stock names and shapes, norms reduced to weight 1, centered writers, idempotent, exact. */
class CanonicalizerTest {
    private static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private record Case(Architecture arch, TransformSpec spec, Weights original, Weights canonical) {
    }

    private static Case canonical(String family) {
        Architecture arch = TinyModels.tinyArchitecture(family);
        TransformSpec spec = TransformSpec.forArchitecture(arch);
        Weights w = TinyModels.randomWeights(arch, 42, manager);
        return new Case(arch, spec, w, Canonicalizer.canonicalize(spec, w));
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt_neox", "gpt_neox_sequential", "llama", "qwen2", "gpt2", "vit"})
    void keepsEveryStockTensorNameAndShape(String family) {
        Case c = canonical(family);
        assertEquals(c.arch().tensors().size(), c.canonical().names().size());
        for (TensorSpec t : c.arch().tensors()) {
            assertEquals(new ai.djl.ndarray.types.Shape(t.shape()), c.canonical().get(t.name()).getShape(), t.name());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt_neox", "llama", "gpt2", "vit"})
    void normWeightsBecomeOneAndFoldedBiasesZero(String family) {
        Case c = canonical(family);
        for (NormRule n : c.spec().norms()) {
            NDArray g = c.canonical().get(n.weight());
            assertTrue(maxAbsDiff(g, g.onesLike()) == 0, n.weight());
            if (n.bias() == null) {
                continue;
            }
            NDArray b = c.canonical().get(n.bias());
            boolean kept = n.readers().stream().anyMatch(r -> r.bias() == null);
            if (kept) {
                NDArray expected = c.original().get(n.bias()).div(c.original().get(n.weight()));
                assertTrue(maxAbsDiff(b, expected) < 1e-6, n.bias() + " keeps beta/gamma");
            } else {
                assertTrue(maxAbsDiff(b, b.zerosLike()) == 0, n.bias() + " folded into the readers");
            }
        }
    }

    @Test
    void finalNormBiasIsKeptOnlyWhereTheReaderHasNoBias() {
        assertTrue(keptBias("gpt_neox", "gpt_neox.final_layer_norm.bias"));
        assertTrue(keptBias("gpt2", "transformer.ln_f.bias"));
        assertTrue(!keptBias("vit", "vit.layernorm.bias"), "the ViT classifier has a bias to fold into");
        assertTrue(!keptBias("gpt2", "transformer.h.0.ln_1.bias"));
    }

    private static boolean keptBias(String family, String bias) {
        Case c = canonical(family);
        NDArray b = c.canonical().get(bias);
        return b.abs().max().getFloat() > 0;
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt_neox", "gpt2", "vit"})
    void layerNormWritersAndEmbeddingsAreCentered(String family) {
        Case c = canonical(family);
        int writers = 0;
        for (TensorRule r : c.spec().rules().values()) {
            if (r.isResidualWriter()) {
                writers++;
                NDArray mean = c.canonical().get(r.name()).mean(new int[] {r.out().storageAxis()});
                assertTrue(mean.abs().max().getFloat() < 1e-6, r.name() + " is centered");
                NDArray before = c.original().get(r.name()).mean(new int[] {r.out().storageAxis()});
                assertTrue(before.abs().max().getFloat() > 1e-4, r.name() + " was not centered before");
            }
        }
        assertTrue(writers >= 3);
    }

    @Test
    void rmsNormWritersAreLeftAlone() {
        Case c = canonical("llama");
        String o = "model.layers.0.self_attn.o_proj.weight";
        assertTrue(maxAbsDiff(c.original().get(o), c.canonical().get(o)) == 0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt_neox", "llama", "gpt2", "vit"})
    void canonicalFormIsIdempotent(String family) {
        Case c = canonical(family);
        Weights twice = Canonicalizer.canonicalize(c.spec(), c.canonical());
        for (String n : c.canonical().names()) {
            assertTrue(maxAbsDiff(c.canonical().get(n), twice.get(n)) < 1e-6, n);
        }
    }

    @Test
    void tiedUnembeddingIsUntied() {
        Case c = canonical("gpt2");
        assertTrue(c.original().get("lm_head.weight") == c.original().get("transformer.wte.weight"));
        assertTrue(maxAbsDiff(c.canonical().get("lm_head.weight"), c.canonical().get("transformer.wte.weight")) > 1e-3);
    }

    @Test
    void zeroNormWeightWithNonzeroBiasIsRefusedWhereTheBiasMustBeKept() {
        Architecture arch = TinyModels.tinyArchitecture("gpt_neox");
        TransformSpec spec = TransformSpec.forArchitecture(arch);
        Weights w = TinyModels.randomWeights(arch, 1, manager);
        NDArray g = w.get("gpt_neox.final_layer_norm.weight").duplicate();
        g.set(new ai.djl.ndarray.index.NDIndex(3), 0f);
        w.put("gpt_neox.final_layer_norm.weight", g);
        LmcException e = assertThrows(LmcException.class, () -> Canonicalizer.canonicalize(spec, w));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("gpt_neox.final_layer_norm.weight") && e.getMessage().contains("index 3"),
                e.getMessage());
    }

    @Test
    void zeroNormWeightIsExactWhereTheBiasFoldsIntoReaders() {
        Architecture arch = TinyModels.tinyArchitecture("gpt_neox");
        TransformSpec spec = TransformSpec.forArchitecture(arch);
        Weights w = TinyModels.randomWeights(arch, 1, manager);
        NDArray g = w.get("gpt_neox.layers.0.input_layernorm.weight").duplicate();
        g.set(new ai.djl.ndarray.index.NDIndex(5), 0f);
        w.put("gpt_neox.layers.0.input_layernorm.weight", g);
        Weights c = Canonicalizer.canonicalize(spec, w);
        NDArray input = TinyModels.input(arch, manager, 2);
        ExactnessCheck.verifyPreserved(arch, w, c, input, 1e-4);
    }
}
