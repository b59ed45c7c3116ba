package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * The group elements of one {@link Transform}, materialized once per {@link TransformEngine#apply}
 * call and shared by every tensor that slot acts on. Matrices of counted slots are stacked
 * ([count, n, n]). Permutations whose parameters carry no gradient are used as index arrays
 * (a gather), otherwise as straight-through matrices so the gradient reaches the latent.
 */
final class SlotElements {
    private final Transform transform;
    private final NDManager scope;
    private final Map<String, NDArray> cache = new HashMap<>();
    private final Map<String, long[]> indexCache = new HashMap<>();

    SlotElements(Transform transform, NDManager scope) {
        this.transform = transform;
        this.scope = scope;
    }

    /** True if {@code ref}'s slot is transformed. */
    boolean active(SlotRef ref) {
        return transform.parameters().containsKey(ref.slotName());
    }

    private Slot slot(SlotRef ref) {
        return transform.spec().slot(ref.slotName());
    }

    private NDArray params(SlotRef ref) {
        return transform.params(ref.slotName());
    }

    /**
     * True if the slot's permutation must act as a matrix: its parameters take part in autograd
     * (the straight-through gradient needs the product), or its parameterization is not a
     * {@link Permutation} with hard indices.
     */
    boolean learning(SlotRef ref) {
        return params(ref).hasGradient() || !(slot(ref).parameterization() instanceof Permutation);
    }

    /** materialize(params[i]) for every copy, stacked on a new leading axis. */
    NDArray element(SlotRef ref) {
        return stacked(ref, "T", Parameterization::materialize);
    }

    /** materializeInverse(params[i]) for every copy, stacked. */
    NDArray inverse(SlotRef ref) {
        return stacked(ref, "inv", Parameterization::materializeInverse);
    }

    /** materializeInverseTranspose(params[i]) for every copy, stacked. */
    NDArray inverseTranspose(SlotRef ref) {
        return stacked(ref, "invT", Parameterization::materializeInverseTranspose);
    }

    private NDArray stacked(SlotRef ref, String variant, BiFunction<Parameterization, NDArray, NDArray> f) {
        return cache.computeIfAbsent(ref.slotName() + "/" + variant, k -> {
            Slot s = slot(ref);
            NDArray p = params(ref);
            NDList copies = new NDList();
            for (int i = 0; i < s.count(); i++) {
                copies.add(f.apply(s.parameterization(), p.get(i)));
            }
            return NDArrays.stack(copies);
        });
    }

    /**
     * Hard permutation indices of every copy, concatenated ({@code perm[i]} of copy c at
     * {@code c * n + i}): row i of the permuted object is row perm[i] of the original.
     */
    long[] indices(SlotRef ref) {
        return indexCache.computeIfAbsent(ref.slotName(), k -> {
            Slot s = slot(ref);
            Permutation perm = (Permutation) s.parameterization();
            NDArray p = params(ref);
            long[] out = new long[s.count() * perm.size()];
            for (int c = 0; c < s.count(); c++) {
                int[] idx = perm.indices(p.get(c));
                for (int i = 0; i < idx.length; i++) {
                    out[c * perm.size() + i] = idx[i];
                }
            }
            return out;
        });
    }

    /** An int64 index array in the scope manager. */
    NDArray indexArray(long[] idx) {
        // duplicate(): an array made from Java data views a direct buffer freed once the scope closes,
        // but a gather saves its index for backward (when the gathered weight requires grad) until
        // after this scope is gone; the copy owns libtorch memory.
        return scope.create(idx).duplicate();
    }
}
