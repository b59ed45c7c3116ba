package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The group elements of one {@link Transform}, materialized once per {@link TransformEngine#apply}
 * call and shared by every tensor that slot acts on (the residual rotation, for example, is built
 * once for all readers and writers). Matrices of counted slots are stacked ([count, n, n]).
 * Permutations whose parameters carry no gradient are used as index arrays (a gather), otherwise
 * as straight-through matrices so the gradient reaches the latent.
 *
 * <p>Materialization is batched: the first time an element variant of a slot is needed, the same
 * variant of every slot in use with the same kind and an equal parameterization (the qk maps of
 * every layer being applied, say) is computed from the concatenated parameters in one call of the
 * parameterization's batched form, then split per slot. A whole-model apply thus builds all of its
 * per-head maps in a few batched native operations instead of a few hundred per head: each small
 * libtorch call costs tens of microseconds on an idle machine and milliseconds on a busy one.
 * Permutations are not batched across slots (each hard permutation is its own assignment problem).
 */
final class SlotElements {
    private final Transform transform;
    private final NDManager scope;
    private final Set<String> inUse;
    private final Map<String, NDArray> cache = new HashMap<>();
    private final Map<String, long[]> indexCache = new HashMap<>();
    private final Map<String, Boolean> activeCache = new HashMap<>();

    /**
     * @param transform the element
     * @param scope     where materialized arrays live (closed by the caller after the apply)
     * @param inUse     the active slots the apply will need; a slot outside it is still served,
     *                  just not batched with others
     */
    SlotElements(Transform transform, NDManager scope, Collection<String> inUse) {
        this.transform = transform;
        this.scope = scope;
        this.inUse = new LinkedHashSet<>(inUse);
    }

    /**
     * True if {@code ref}'s slot is transformed: its group is chosen and its element is not a
     * fixed identity. A slot whose parameters are exactly the identity's and record no gradient
     * (model A at its start, A's anchored residual rotation, permutations that matching left in
     * place) acts as the identity, so the engine skips it: exactly the same weights, without
     * multiplying every residual reader and writer by I.
     */
    boolean active(SlotRef ref) {
        return active(ref.slotName());
    }

    private boolean active(String name) {
        if (!transform.parameters().containsKey(name)) {
            return false;
        }
        return activeCache.computeIfAbsent(name, k -> !fixedIdentity(k));
    }

    private boolean fixedIdentity(String name) {
        NDArray p = transform.params(name);
        if (recordsGradient(p)) {
            return false;
        }
        if (slot(name).isIndexForm(p)) {
            float[] v = p.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
            int n = ((Permutation) slot(name).parameterization()).size();
            for (int i = 0; i < v.length; i++) {
                if (v[i] != i % n) {
                    return false;
                }
            }
            return true;
        }
        NDArray id = slot(name).parameterization().identityParams(scope).toType(p.getDataType(), false);
        return p.eq(id).all().getBoolean(); // id broadcasts over the slot's copies
    }

    /**
     * Whether autograd tracks {@code p}: a leaf that requires a gradient, or an array computed
     * from one (DJL's {@code hasGradient()} only sees the former).
     */
    static boolean recordsGradient(NDArray p) {
        if (p instanceof PtNDArray pt) {
            return JniUtils.requiresGrad(pt);
        }
        return p.hasGradient();
    }

    private Slot slot(String name) {
        return transform.spec().slot(name);
    }

    private Slot slot(SlotRef ref) {
        return slot(ref.slotName());
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
        return recordsGradient(params(ref)) || !(slot(ref).parameterization() instanceof Permutation);
    }

    /** The element variants the engine uses. */
    private enum Variant {
        ELEMENT, INVERSE, INVERSE_TRANSPOSE;

        NDArray of(Parameterization p, NDArray batch) {
            return switch (this) {
                case ELEMENT -> p.materializeBatch(batch);
                case INVERSE -> p.materializeInverseBatch(batch);
                case INVERSE_TRANSPOSE -> p.materializeInverseTransposeBatch(batch);
            };
        }
    }

    /** materialize(params[i]) for every copy, stacked on a new leading axis. */
    NDArray element(SlotRef ref) {
        return stacked(ref.slotName(), Variant.ELEMENT);
    }

    /** materializeInverse(params[i]) for every copy, stacked. */
    NDArray inverse(SlotRef ref) {
        return stacked(ref.slotName(), Variant.INVERSE);
    }

    /** materializeInverseTranspose(params[i]) for every copy, stacked. */
    NDArray inverseTranspose(SlotRef ref) {
        return stacked(ref.slotName(), Variant.INVERSE_TRANSPOSE);
    }

    private static String key(String slot, Variant v) {
        return slot + "/" + v;
    }

    private NDArray stacked(String slotName, Variant variant) {
        NDArray hit = cache.get(key(slotName, variant));
        if (hit != null) {
            return hit;
        }
        List<String> batch = peers(slotName, variant);
        Parameterization p = slot(slotName).parameterization();
        NDArray params;
        if (batch.size() == 1) {
            params = transform.params(slotName);
        } else {
            NDList all = new NDList();
            for (String s : batch) {
                all.add(transform.params(s));
            }
            params = NDArrays.concat(all, 0);
        }
        boolean widen = p instanceof OrthogonalParameterization && !recordsGradient(params)
                && params.getDataType() == ai.djl.ndarray.types.DataType.FLOAT32;
        if (widen) {
            // A fixed (matched) rotation of two unrelated models is far from the identity, where the
            // Cayley map's I + A is badly conditioned: materialized in float32 it is measurably not
            // orthogonal (logit errors of 3e-4 at Pythia-160M scale instead of 3e-6). Learned rotations
            // start at the identity of the matched model and stay near it, and keep their graph.
            NDArray wide = variant.of(p, params.toType(ai.djl.ndarray.types.DataType.FLOAT64, false));
            split(batch, variant, wide.toType(ai.djl.ndarray.types.DataType.FLOAT32, false));
            return cache.get(key(slotName, variant));
        }
        if (pairs(slotName) && variant != Variant.INVERSE) {
            // A head map is always needed with its inverse transpose: materialize both at once.
            NDArray[] both = p.materializeWithInverseTransposeBatch(params);
            split(batch, Variant.ELEMENT, both[0]);
            split(batch, Variant.INVERSE_TRANSPOSE, both[1]);
        } else {
            split(batch, variant, variant.of(p, params));
        }
        return cache.get(key(slotName, variant));
    }

    /** True for the head maps, whose element and inverse transpose every block uses together. */
    private boolean pairs(String slotName) {
        SlotKind k = slot(slotName).kind();
        return k == SlotKind.QK || k == SlotKind.VO;
    }

    /** Caches the rows of {@code joined} belonging to each slot of {@code batch}, in order. */
    private void split(List<String> batch, Variant variant, NDArray joined) {
        // Cached elements outlive the per-tensor NDScope of TransformEngine.apply that may be open now.
        NDScope.unregister(joined);
        if (batch.size() == 1) {
            cache.put(key(batch.get(0), variant), joined);
            return;
        }
        long from = 0;
        for (String s : batch) {
            long count = slot(s).count();
            NDArray rows = joined.get(from + ":" + (from + count));
            NDScope.unregister(rows);
            cache.put(key(s, variant), rows);
            from += count;
        }
    }

    /**
     * The slots whose {@code variant} is materialized together with {@code slotName}'s: itself
     * and every other active slot in use of the same kind with an equal parameterization that
     * has not got this variant yet. Permutations go alone.
     */
    private List<String> peers(String slotName, Variant variant) {
        List<String> out = new ArrayList<>();
        out.add(slotName);
        Slot me = slot(slotName);
        if (me.parameterization() instanceof Permutation || !inUse.contains(slotName)) {
            return out;
        }
        for (String s : inUse) {
            if (s.equals(slotName) || cache.containsKey(key(s, variant)) || !active(s)) {
                continue;
            }
            Slot other = slot(s);
            if (other.kind() == me.kind() && other.parameterization().equals(me.parameterization())) {
                out.add(s);
            }
        }
        return out;
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
            boolean indexForm = s.isIndexForm(p);
            for (int c = 0; c < s.count(); c++) {
                int[] idx = indexForm ? perm.indicesOfIndexForm(p.get(c)) : perm.indices(p.get(c));
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
