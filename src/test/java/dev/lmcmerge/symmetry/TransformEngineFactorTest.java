package dev.lmcmerge.symmetry;

import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Weights;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Applying a transform with a factor gives the factor times the transformed weights, whether the
 * factor is folded into a rotation, a head map or a scale, or applied to a tensor only
 * permutations touch or none does; the canonical arrays are never changed.
 */
class TransformEngineFactorTest {

    @ParameterizedTest
    @CsvSource({"gpt_neox, ALL", "llama, ALL", "gpt2, ALL", "vit, ALL", "gpt_neox, FFN", "llama, HEADS", "gpt2, QK"})
    void aFactorScalesEveryTransformedTensor(String family, String groups) {
        try (NDManager m = NDManager.newBaseManager()) {
            Architecture arch = TinyModels.tinyArchitecture(family);
            TransformSpec spec = TransformSpec.forArchitecture(arch);
            Weights canonical = Canonicalizer.canonicalize(spec, TinyModels.randomWeights(arch, 1, m));
            Set<SlotGroup> chosen = groups.equals("ALL") ? SlotGroup.all() : Set.of(SlotGroup.valueOf(groups));
            Transform t = Transform.random(spec, chosen, 2, m);
            Weights plain = TransformEngine.apply(spec, t, canonical);
            Weights scaled = TransformEngine.apply(spec, t, canonical, canonical.names(), 0.3);
            for (String n : canonical.names()) {
                double diff = TinyModels.maxAbsDiff(plain.get(n).mul(0.3), scaled.get(n));
                assertTrue(diff <= 1e-6, family + " " + groups + " " + n + ": max |difference| " + diff);
                assertNotSame(canonical.get(n), scaled.get(n), n + " must be a new array, not the canonical one");
            }
        }
    }
}
