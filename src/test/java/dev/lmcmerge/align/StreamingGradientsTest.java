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
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Layer-block streaming, and the one-graph step with the token table made for the batch's tokens
 * only, compute the same gradients as one autograd graph over the whole model with every weight
 * transformed, for every parameter group, on both sides of the path; with the head's logits from
 * rotated activations (a batch of at most d tokens) and from transformed weights (more tokens).
 */
class StreamingGradientsTest {

    @ParameterizedTest
    @CsvSource({"gpt_neox, 1", "gpt_neox, 2", "llama, 1", "llama, 2"})
    void streamingAndGraphGradientsEqualWholeGraphGradientsForEveryParameterGroup(String family, int rows) {
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
                // d = 16: one row of 12 tokens takes the head by rotated activations, two rows (24) by weights.
                NDArray ids = AlignModels.tokens(arch, m, 5, rows, 12);
                assertTrue(path.headByActivations(), "the untied unembedding is only rotated");
                try (InterpolationPath.Gradients streamed = path.streamingGradients(ids, 0.37);
                     InterpolationPath.Gradients graph = path.graphGradients(ids, 0.37);
                     InterpolationPath.Gradients whole = path.wholeGraphGradients(ids, 0.37)) {
                    assertEquals(whole.loss(), streamed.loss(), 1e-5 * Math.abs(whole.loss()));
                    assertEquals(whole.loss(), graph.loss(), 1e-5 * Math.abs(whole.loss()));
                    Set<SlotKind> seen = EnumSet.noneOf(SlotKind.class);
                    compare(spec, whole.a(), streamed.a(), "A streamed", seen);
                    compare(spec, whole.b(), streamed.b(), "B streamed", seen);
                    compare(spec, whole.a(), graph.a(), "A graph", seen);
                    compare(spec, whole.b(), graph.b(), "B graph", seen);
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
