package dev.lmcmerge.align;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.Canonicalizer;
import dev.lmcmerge.symmetry.Slot;
import dev.lmcmerge.symmetry.SlotGroup;
import dev.lmcmerge.symmetry.SlotKind;
import dev.lmcmerge.symmetry.Transform;
import dev.lmcmerge.symmetry.TransformEngine;
import dev.lmcmerge.symmetry.TransformSpec;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Activation matching on a planted symmetry: B is an exact random transform of A, so on the same
 * tokens B's activations are A's transformed; the residual rotation, the head and FFN
 * permutations (and gated-MLP scales) found from activations undo the transform exactly.
 */
class ActivationMatchingTest {

    @ParameterizedTest
    @ValueSource(strings = {"gpt_neox", "llama"})
    void recoversAPlantedSymmetryFromActivations(String family) {
        try (NDManager m = NDManager.newBaseManager()) {
            Architecture arch = AlignModels.tiny(family, 2);
            TransformSpec spec = TransformSpec.forArchitecture(arch);
            Weights a = Canonicalizer.canonicalize(spec, AlignModels.random(arch, 21, m));
            Set<SlotGroup> groups = EnumSet.of(SlotGroup.RESIDUAL, SlotGroup.HEADS, SlotGroup.QK, SlotGroup.VO,
                    SlotGroup.FFN, SlotGroup.SCALE);
            Map<String, NDArray> planted = new LinkedHashMap<>(Transform.random(spec, groups, 22, m).parameters());
            planted.remove(Slot.nameOf(SlotKind.RESIDUAL_SCALE, -1));
            Transform t = Transform.of(spec, groups, planted, m);
            Weights b = TransformEngine.apply(spec, t, a);
            List<NDArray> batches = List.of(AlignModels.tokens(arch, m, 23, 4, 16), AlignModels.tokens(arch, m, 24, 4, 16));

            ActivationMatching.Result r = ActivationMatching.match(spec, arch, a, b, batches, groups, m);

            for (int l = 0; l < spec.dims().layers(); l++) {
                String heads = Slot.nameOf(SlotKind.HEAD_GROUPS, l);
                assertArrayEquals(WeightMatchingTest.inverse(WeightMatchingTest.indices(spec, t, heads, 0)),
                        r.permutations().get(heads), "head groups of layer " + l);
                String ffn = Slot.nameOf(SlotKind.FFN_PERMUTATION, l);
                assertArrayEquals(WeightMatchingTest.inverse(WeightMatchingTest.indices(spec, t, ffn, 0)),
                        r.permutations().get(ffn), "FFN units of layer " + l);
            }
            double before = WeightMatching.distance(spec, a, b);
            try (Weights back = TransformEngine.apply(spec, r.transform(), b)) {
                double after = WeightMatching.distance(spec, a, back);
                assertTrue(after < 1e-8 * before, "||T_B(B) - A||^2 = " + after + " (before " + before + ")");
            }
        }
    }
}
