package dev.lmcmerge.symmetry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Weights;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A fixed permutation given in index form ([count, n], perm itself) acts exactly as the same
 * permutation given as its n x n latent, survives the entries round trip, and is validated.
 */
class PermutationIndexFormTest {
    @Test
    void indexFormActsExactlyAsTheLatentOfTheSamePermutation() {
        try (NDManager m = NDManager.newBaseManager()) {
            Architecture arch = TinyModels.tinyArchitecture("llama");
            TransformSpec spec = TransformSpec.forArchitecture(arch);
            Weights w = Canonicalizer.canonicalize(spec, TinyModels.randomWeights(arch, 5, m));
            Map<String, NDArray> latent = new LinkedHashMap<>();
            Map<String, NDArray> index = new LinkedHashMap<>();
            for (Slot s : spec.slotsOf(EnumSet.of(SlotGroup.FFN, SlotGroup.HEADS))) {
                if (!(s.parameterization() instanceof Permutation p)) {
                    continue;
                }
                int n = p.size();
                java.util.List<NDArray> lat = new java.util.ArrayList<>();
                java.util.List<NDArray> idx = new java.util.ArrayList<>();
                for (int c = 0; c < s.count(); c++) {
                    int[] perm = new int[n];
                    for (int i = 0; i < n; i++) {
                        perm[i] = (i * 3 + c + 1) % n; // a bijection when gcd(3, n) = 1, else shifted identity below
                    }
                    if (!isPermutation(perm)) {
                        for (int i = 0; i < n; i++) {
                            perm[i] = (i + c + 1) % n;
                        }
                    }
                    lat.add(p.paramsOf(perm, m));
                    idx.add(p.indexParamsOf(perm, m));
                }
                latent.put(s.name(), ai.djl.ndarray.NDArrays.stack(new ai.djl.ndarray.NDList(lat)));
                index.put(s.name(), ai.djl.ndarray.NDArrays.stack(new ai.djl.ndarray.NDList(idx)));
                assertEquals(s.indexShape(), index.get(s.name()).getShape());
            }
            Transform tl = Transform.of(spec, EnumSet.of(SlotGroup.FFN, SlotGroup.HEADS), latent, m);
            Transform ti = Transform.of(spec, EnumSet.of(SlotGroup.FFN, SlotGroup.HEADS), index, m);
            try (Weights a = TransformEngine.apply(spec, tl, w); Weights b = TransformEngine.apply(spec, ti, w)) {
                for (String name : w.names()) {
                    assertArrayEquals(a.get(name).toFloatArray(), b.get(name).toFloatArray(), name);
                }
            }
            Transform back = Transform.fromEntries(spec, EnumSet.of(SlotGroup.FFN, SlotGroup.HEADS), ti.entries(), m, "test");
            try (Weights a = TransformEngine.apply(spec, ti, w); Weights b = TransformEngine.apply(spec, back, w)) {
                for (String name : w.names()) {
                    assertArrayEquals(a.get(name).toFloatArray(), b.get(name).toFloatArray(), name);
                }
            }
        }
    }

    @Test
    void anIndexFormThatIsNotAPermutationIsRefused() {
        try (NDManager m = NDManager.newBaseManager()) {
            Architecture arch = TinyModels.tinyArchitecture("llama");
            TransformSpec spec = TransformSpec.forArchitecture(arch);
            Slot ffn = spec.slot(Slot.nameOf(SlotKind.FFN_PERMUTATION, 0));
            int n = ((Permutation) ffn.parameterization()).size();
            float[] twice = new float[n]; // all zeros: row 0 used n times
            NDArray bad = m.create(twice, new Shape(1, n));
            assertThrows(IllegalArgumentException.class,
                    () -> Transform.of(spec, EnumSet.of(SlotGroup.FFN), Map.of(ffn.name(), bad), m));
        }
    }

    private static boolean isPermutation(int[] p) {
        boolean[] seen = new boolean[p.length];
        for (int v : p) {
            if (seen[v]) {
                return false;
            }
            seen[v] = true;
        }
        return true;
    }
}
