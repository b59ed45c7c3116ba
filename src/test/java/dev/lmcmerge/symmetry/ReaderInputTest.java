package dev.lmcmerge.symmetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Nn;
import dev.lmcmerge.model.TensorSpec;
import dev.lmcmerge.model.Weights;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A residual reader on which only the residual rotation acts computes, from its canonical
 * weight and the rotated activation, what its transformed weight computes from the activation.
 */
class ReaderInputTest {

    @ParameterizedTest
    @ValueSource(strings = {"gpt_neox", "llama", "gpt2"})
    void theUnembeddingOfTheRotatedActivationEqualsTheTransformedUnembeddingOfTheActivation(String family) {
        try (NDManager m = NDManager.newBaseManager()) {
            Architecture arch = TinyModels.tinyArchitecture(family);
            TransformSpec spec = TransformSpec.forArchitecture(arch);
            Weights canonical = Canonicalizer.canonicalize(spec, TinyModels.randomWeights(arch, 1, m));
            Transform t = Transform.random(spec, SlotGroup.all(), 2, m);
            String unembed = arch.unembedding();
            assertTrue(TransformEngine.onlyRotatesInput(spec, t, unembed));
            Weights transformed = TransformEngine.apply(spec, t, canonical, List.of(unembed));
            NDArray x = m.randomNormal(new Shape(2, 5, arch.config().hiddenSize()));
            NDArray viaWeights = x.matMul(transformed.get(unembed).transpose());
            NDArray viaActivations = TransformEngine.readerInput(spec, t, x).matMul(canonical.get(unembed).transpose());
            assertTrue(viaWeights.sub(viaActivations).abs().max().getFloat() <= 1e-5,
                    "max |difference| " + viaWeights.sub(viaActivations).abs().max().getFloat());
        }
    }

    @Test
    void tensorsThatOtherSlotsTouchDoNotQualify() {
        try (NDManager m = NDManager.newBaseManager()) {
            Architecture arch = TinyModels.tinyArchitecture("gpt_neox");
            TransformSpec spec = TransformSpec.forArchitecture(arch);
            Transform t = Transform.random(spec, SlotGroup.all(), 2, m);
            List<String> readers = new ArrayList<>();
            for (TensorSpec ts : arch.tensors()) {
                if (TransformEngine.onlyRotatesInput(spec, t, ts.name())) {
                    readers.add(ts.name());
                }
            }
            // The QKV and FFN input weights read the residual too, but head maps and FFN permutations act on their rows.
            assertEquals(List.of("embed_out.weight"), readers);
        }
    }

    @Test
    void aTransformWithoutTheRotationLeavesTheActivationAsItIs() {
        try (NDManager m = NDManager.newBaseManager()) {
            Architecture arch = TinyModels.tinyArchitecture("gpt_neox");
            TransformSpec spec = TransformSpec.forArchitecture(arch);
            Transform t = Transform.random(spec, Set.of(SlotGroup.HEADS), 2, m);
            NDArray x = m.randomNormal(new Shape(3, arch.config().hiddenSize()));
            assertEquals(x, TransformEngine.readerInput(spec, t, x));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt_neox", "llama", "gpt2"})
    void aLanguageModelsHeadIsItsFinalNormThenItsUnembedding(String family) {
        try (NDManager m = NDManager.newBaseManager()) {
            Architecture arch = TinyModels.tinyArchitecture(family);
            Weights w = TinyModels.randomWeights(arch, 1, m);
            NDArray h = m.randomNormal(new Shape(2, 5, arch.config().hiddenSize()));
            NDArray split = Nn.linear(arch.finalNorm(w, h), w.get(arch.unembedding()), null);
            assertTrue(arch.head(w, h).sub(split).abs().max().getFloat() <= 1e-6);
        }
    }

    @Test
    void aClassifierHeadHasNoUnembedding() {
        assertEquals(null, TinyModels.tinyArchitecture("vit").unembedding());
    }
}
