package dev.lmcmerge.align;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.lmcmerge.eval.Barrier;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.Canonicalizer;
import dev.lmcmerge.symmetry.Permutation;
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
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.MatrixFeatures_DDRM;
import org.ejml.dense.row.NormOps_DDRM;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Weight matching on a planted symmetry: B is an exact random transform of A (residual rotation,
 * head and FFN permutations, head-internal maps, gated-MLP scales), so matching must undo it
 * exactly: the permutations found are the planted ones inverted, T_B(B) equals A, and the
 * interpolation path between them is flat.
 */
class WeightMatchingTest {

    @Test
    void residualCrossProductsOverBsLayersAddUpToThoseOfTheWholeModel() {
        // Weight matching fits the residual rotation from B transformed one layer at a time.
        try (NDManager m = NDManager.newBaseManager()) {
            Architecture arch = AlignModels.tiny("gpt_neox", 3);
            TransformSpec spec = TransformSpec.forArchitecture(arch);
            Weights a = Canonicalizer.canonicalize(spec, AlignModels.random(arch, 21, m));
            Weights b = Canonicalizer.canonicalize(spec, AlignModels.random(arch, 22, m));
            DMatrixRMaj whole = WeightMatching.residualCrossProducts(spec, a, b, true);
            DMatrixRMaj sum = new DMatrixRMaj(whole.numRows, whole.numCols);
            int groups = 0;
            for (List<String> names : WeightMatching.byLayer(spec, b).values()) {
                Weights part = new Weights(m.newSubManager(), "part");
                names.forEach(n -> part.put(n, b.get(n)));
                CommonOps_DDRM.addEquals(sum, WeightMatching.residualCrossProducts(spec, a, part, true));
                groups++;
            }
            assertTrue(groups > 2, "B's tensors fall into " + groups + " layer groups");
            assertTrue(MatrixFeatures_DDRM.isIdentical(whole, sum, 1e-9 * NormOps_DDRM.normF(whole)),
                    "the partial sums differ from the whole");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt_neox", "llama"})
    void recoversAPlantedSymmetryExactly(String family) {
        try (NDManager m = NDManager.newBaseManager()) {
            Architecture arch = AlignModels.tiny(family, 3);
            TransformSpec spec = TransformSpec.forArchitecture(arch);
            Weights a = Canonicalizer.canonicalize(spec, AlignModels.random(arch, 11, m));
            Set<SlotGroup> groups = EnumSet.of(SlotGroup.RESIDUAL, SlotGroup.HEADS, SlotGroup.QK, SlotGroup.VO,
                    SlotGroup.FFN, SlotGroup.SCALE);
            // Everything random except the residual scale, which weight matching leaves alone.
            Transform random = Transform.random(spec, groups, 12, m);
            Map<String, NDArray> planted = new LinkedHashMap<>(random.parameters());
            planted.remove(Slot.nameOf(SlotKind.RESIDUAL_SCALE, -1));
            Transform t = Transform.of(spec, groups, planted, m);
            Weights b = TransformEngine.apply(spec, t, a);

            WeightMatching.Result r = WeightMatching.match(spec, a, b, groups, 10, m);

            for (int l = 0; l < spec.dims().layers(); l++) {
                int[] sigma = indices(spec, t, Slot.nameOf(SlotKind.HEAD_GROUPS, l), 0);
                int[] sigmaFound = r.permutations().get(Slot.nameOf(SlotKind.HEAD_GROUPS, l));
                assertArrayEquals(inverse(sigma), sigmaFound, "head groups of layer " + l);
                if (spec.dims().groupSize() > 1) {
                    String in = Slot.nameOf(SlotKind.HEADS_IN_GROUP, l);
                    for (int g = 0; g < sigma.length; g++) {
                        // B(g, i) = A(sigma[g], pi_g[i]) so the inverse puts at A's group g the inverse of pi_{sigma'[g]}.
                        int[] pi = indices(spec, t, in, sigmaFound[g]);
                        assertArrayEquals(inverse(pi), r.permutations().get(in + "/" + g), "heads in group " + g + " of layer " + l);
                    }
                }
                String ffn = Slot.nameOf(SlotKind.FFN_PERMUTATION, l);
                assertArrayEquals(inverse(indices(spec, t, ffn, 0)), r.permutations().get(ffn), "FFN units of layer " + l);
            }
            assertTrue(r.distanceBefore() > 1, "the planted transform moved B away from A: " + r.distanceBefore());
            assertTrue(r.distanceAfter() < 1e-8 * r.distanceBefore(),
                    "||T_B(B) - A||^2 = " + r.distanceAfter() + " (before " + r.distanceBefore() + ")");

            Set<String> none = Set.of();
            try (InterpolationPath path = new InterpolationPath(spec, arch, a, b, Transform.identity(spec, groups, m),
                    r.transform(), none, none)) {
                NDArray ids = AlignModels.tokens(arch, m, 13, 4, 16);
                double[] alphas = Barrier.grid(11);
                double[] losses = new double[alphas.length];
                for (int i = 0; i < alphas.length; i++) {
                    losses[i] = path.loss(ids, alphas[i]);
                }
                Barrier barrier = Barrier.of(alphas, losses);
                assertEquals(barrier.lossA(), barrier.lossB(), 1e-4, "B is A up to an exact symmetry");
                assertTrue(barrier.barrier() < 1e-3, "barrier " + barrier.barrier());
            }
        }
    }

    static int[] indices(TransformSpec spec, Transform t, String slot, int copy) {
        Permutation p = (Permutation) spec.slot(slot).parameterization();
        return p.indices(t.params(slot).get(copy));
    }

    static int[] inverse(int[] perm) {
        int[] inv = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            inv[perm[i]] = i;
        }
        return inv;
    }
}
