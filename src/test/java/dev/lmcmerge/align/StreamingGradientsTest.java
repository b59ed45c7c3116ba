package dev.lmcmerge.align;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.Canonicalizer;
import dev.lmcmerge.symmetry.Slot;
import dev.lmcmerge.symmetry.SlotGroup;
import dev.lmcmerge.symmetry.SlotKind;
import dev.lmcmerge.symmetry.Transform;
import dev.lmcmerge.symmetry.TransformSpec;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Layer-block streaming computes the same gradients as one autograd graph over the whole model,
 * for every parameter group, on both sides of the path.
 */
class StreamingGradientsTest {

    @ParameterizedTest
    @ValueSource(strings = {"gpt_neox", "llama"})
    void streamingGradientsEqualWholeGraphGradientsForEveryParameterGroup(String family) {
        try (NDManager m = NDManager.newBaseManager()) {
            Architecture arch = AlignModels.tiny(family, 4);
            TransformSpec spec = TransformSpec.forArchitecture(arch);
            Weights a = Canonicalizer.canonicalize(spec, AlignModels.random(arch, 1, m));
            Weights b = Canonicalizer.canonicalize(spec, AlignModels.random(arch, 2, m));
            Set<SlotGroup> groups = SlotGroup.all();
            // Random (non-identity) elements on both sides, so no gradient is special because of symmetry.
            Transform ta = Transform.random(spec, groups, 3, m);
            Transform tb = Transform.random(spec, groups, 4, m);
            Set<String> all = new LinkedHashSet<>(ta.parameters().keySet());
            try (InterpolationPath path = new InterpolationPath(spec, arch, a, b, ta, tb, all, all)) {
                NDArray ids = AlignModels.tokens(arch, m, 5, 2, 12);
                try (InterpolationPath.Gradients streamed = path.streamingGradients(ids, 0.37);
                     InterpolationPath.Gradients whole = path.wholeGraphGradients(ids, 0.37)) {
                    assertEquals(whole.loss(), streamed.loss(), 1e-5 * Math.abs(whole.loss()));
                    Set<SlotKind> seen = EnumSet.noneOf(SlotKind.class);
                    compare(spec, whole.a(), streamed.a(), "A", seen);
                    compare(spec, whole.b(), streamed.b(), "B", seen);
                    // Every slot kind of the family took part (scale: residual scale, and FFN scale for gated MLPs).
                    Set<SlotKind> expected = EnumSet.of(SlotKind.RESIDUAL_ROTATION, SlotKind.RESIDUAL_SCALE,
                            SlotKind.HEAD_GROUPS, SlotKind.QK, SlotKind.VO, SlotKind.FFN_PERMUTATION);
                    if (spec.dims().gatedMlp()) {
                        expected.add(SlotKind.FFN_SCALE);
                    }
                    if (spec.dims().groupSize() > 1) {
                        expected.add(SlotKind.HEADS_IN_GROUP);
                    }
                    assertEquals(expected, seen);
                }
            }
        }
    }

    private static void compare(TransformSpec spec, Map<String, NDArray> whole, Map<String, NDArray> streamed,
                                String side, Set<SlotKind> seen) {
        assertEquals(whole.keySet(), streamed.keySet(), side + " slots");
        for (String slot : whole.keySet()) {
            double[] w = whole.get(slot).toType(DataType.FLOAT64, false).toDoubleArray();
            double[] s = streamed.get(slot).toType(DataType.FLOAT64, false).toDoubleArray();
            double diff = 0;
            double norm = 0;
            for (int i = 0; i < w.length; i++) {
                diff += (w[i] - s[i]) * (w[i] - s[i]);
                norm += w[i] * w[i];
            }
            double rel = Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30);
            assertTrue(norm > 0, side + " " + slot + ": the whole-graph gradient is zero, the test would prove nothing");
            assertTrue(rel <= 1e-4, spec.family() + " " + side + " " + slot + ": relative error " + rel + " (|whole| "
                    + Math.sqrt(norm) + ", |diff| " + Math.sqrt(diff) + ")");
            seen.add(spec.slot(slot).kind());
        }
    }
}
