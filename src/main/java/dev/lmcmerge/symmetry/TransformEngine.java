package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.model.Nn;
import dev.lmcmerge.model.Weights;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies one element of a model's symmetry group to its canonical weights, for every family,
 * driven only by the {@link TransformSpec} table: a tensor with output-axis map T_out and
 * input-axis map T_in becomes T_out W T_in^{-1}, a bias T_out b.
 *
 * <p>Each transformed axis is moved to the front and viewed as rows X [n, rest]; an output axis
 * then becomes T X and an input axis T^{-T} X (since (W T^{-1})^T = T^{-T} W^T). The slot kinds
 * act as follows (as rows): residual rotation O^T (so readers become W O, writers O^T W,
 * embeddings E O); residual scale c on writer axes; permutations by gather (or by their
 * straight-through matrix when learning); head maps block by block with a batched matmul over
 * KV groups (A on Q, A^{-T} on K, C on V, C^{-T} on output-projection columns); FFN scales
 * row-wise. Nothing builds a dense d x d block matrix.
 *
 * <p>Differentiable in the transform's parameter arrays: every step is a DJL op.
 */
public final class TransformEngine {
    private TransformEngine() {
    }

    /**
     * The transformed weights. Tensors no active slot touches are shared with {@code canonical}
     * (not copied): keep {@code canonical} open while using the result. New tensors live in the
     * result's own manager, a sub-manager of {@code canonical}'s.
     *
     * @param spec      the model's bound spec
     * @param transform the group element (its spec must be {@code spec})
     * @param canonical weights in canonical form ({@link Canonicalizer})
     */
    public static Weights apply(TransformSpec spec, Transform transform, Weights canonical) {
        return apply(spec, transform, canonical, canonical.names());
    }

    /**
     * As {@link #apply(TransformSpec, Transform, Weights)} for the tensors named in {@code names}
     * only (e.g. one block's tensors when recomputing a block with gradients); the result holds
     * just those tensors.
     */
    public static Weights apply(TransformSpec spec, Transform transform, Weights canonical, Collection<String> names) {
        return apply(spec, transform, canonical, names, 1.0);
    }

    /**
     * As {@link #apply(TransformSpec, Transform, Weights, Collection)}, every result multiplied by
     * {@code factor}: the factor is folded into the first small operand a tensor meets (the d x d
     * rotation, a head map, a scale vector), so an interpolation (1 - alpha) T_A(W_A) + alpha T_B(W_B)
     * costs one addition per tensor instead of two scalings and an addition. Tensors no active
     * slot touches, or only permutations, are scaled explicitly (new arrays, never the canonical
     * ones changed).
     */
    public static Weights apply(TransformSpec spec, Transform transform, Weights canonical, Collection<String> names,
                                double factor) {
        Weights out = new Weights(canonical.manager().newSubManager(), canonical.source() + " (transformed)");
        try (NDManager scope = canonical.manager().newSubManager()) {
            for (NDArray p : transform.parameters().values()) {
                Scopes.borrow(p, scope);
            }
            SlotElements el = new SlotElements(transform, scope, slotsUsed(spec, transform, names));
            // Without a graph, each tensor's intermediates (the rotated copy before the permutation,
            // say) are freed as soon as the tensor is done, so a whole-model apply peaks at about the
            // result plus one tensor's temporaries instead of every intermediate of every tensor.
            // With a graph they stay with the scope: autograd may still need them.
            boolean freeAsWeGo = !JniUtils.isGradMode();
            for (String name : names) {
                TensorRule rule = spec.rule(name);
                NDArray w = canonical.get(name);
                if ((rule == null || !touches(rule, el)) && factor == 1.0) {
                    out.put(name, w);
                    continue;
                }
                Scopes.borrow(w, scope);
                try (NDScope tensorScope = freeAsWeGo ? new NDScope() : null) {
                    NDArray r = w;
                    double[] pending = {factor};
                    if (rule != null) {
                        // The axes' maps commute (T_out W T_in^{-1}); an axis whose maps are fixed gathers goes
                        // first, so the gather reads the constant canonical tensor and autograd never
                        // scatters a gradient back through it.
                        boolean inFirst = rule.in() != null && fixedGathersOnly(rule.in(), el)
                                && !(rule.out() != null && fixedGathersOnly(rule.out(), el));
                        if (inFirst) {
                            r = transformAxis(r, rule.in(), false, el, spec, pending);
                        }
                        if (rule.out() != null) {
                            r = transformAxis(r, rule.out(), true, el, spec, pending);
                        }
                        if (rule.in() != null && !inFirst) {
                            r = transformAxis(r, rule.in(), false, el, spec, pending);
                        }
                    }
                    if (pending[0] != 1.0) {
                        r = times(r, pending[0]);
                    }
                    if (tensorScope != null) {
                        NDScope.unregister(r);
                    }
                    r.attach(out.manager());
                    out.put(name, r);
                }
            }
        }
        return out;
    }

    /**
     * True if, of the active slots of {@code transform}, only the residual rotation acts on the
     * tensor {@code name}, on its input axis (the last axis of a residual reader such as the
     * unembedding, stored [out, in]). Such a reader's product with an activation x can use the canonical weight
     * and the rotated activation instead ({@link #readerInput}), which for a few hundred tokens
     * costs far less than rotating a 50k-row table.
     */
    public static boolean onlyRotatesInput(TransformSpec spec, Transform transform, String name) {
        TensorRule rule = spec.rule(name);
        if (rule == null || rule.in() == null || rule.in().storageAxis() != 1) {
            return false;
        }
        for (AxisRule a : new AxisRule[] {rule.out(), rule.in()}) {
            if (a == null) {
                continue;
            }
            for (SlotRef ref : a.slots()) {
                boolean present = transform.parameters().containsKey(ref.slotName());
                if (present && (a != rule.in() || ref.kind() != SlotKind.RESIDUAL_ROTATION)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * The activation a residual reader that {@link #onlyRotatesInput} should see with its
     * canonical weight W to compute what the transformed weight W O computes with {@code x}:
     * x (W O)^T = (x O^T) W^T, so x O^T (x itself when the rotation is absent or the identity).
     * Differentiable in the transform's parameters; the result lives in {@code x}'s manager.
     */
    public static NDArray readerInput(TransformSpec spec, Transform transform, NDArray x) {
        String rotation = Slot.nameOf(SlotKind.RESIDUAL_ROTATION, -1);
        if (!transform.parameters().containsKey(rotation)) {
            return x;
        }
        NDManager owner = x.getManager();
        try (NDManager scope = owner.newSubManager()) {
            for (NDArray p : transform.parameters().values()) {
                Scopes.borrow(p, scope);
            }
            SlotElements el = new SlotElements(transform, scope, Set.of(rotation));
            SlotRef ref = SlotRef.global(SlotKind.RESIDUAL_ROTATION);
            if (!el.active(ref)) {
                return x;
            }
            Scopes.borrow(x, scope);
            NDArray r = x.matMul(el.element(ref).get(0).transpose());
            r.attach(owner);
            return r;
        }
    }

    /** The active slots acting on any of {@code names}, so their elements can be materialized together. */
    private static Set<String> slotsUsed(TransformSpec spec, Transform transform, Collection<String> names) {
        Set<String> out = new LinkedHashSet<>();
        for (String name : names) {
            TensorRule rule = spec.rule(name);
            if (rule == null) {
                continue;
            }
            for (AxisRule a : new AxisRule[] {rule.out(), rule.in()}) {
                if (a == null) {
                    continue;
                }
                for (SlotRef ref : a.slots()) {
                    if (transform.parameters().containsKey(ref.slotName())) {
                        out.add(ref.slotName());
                    }
                }
            }
        }
        return out;
    }

    private static boolean touches(TensorRule rule, SlotElements el) {
        return anyActive(rule.out(), el) || anyActive(rule.in(), el);
    }

    private static boolean anyActive(AxisRule a, SlotElements el) {
        if (a == null) {
            return false;
        }
        for (SlotRef ref : a.slots()) {
            if (el.active(ref)) {
                return true;
            }
        }
        return false;
    }

    /** True if some slot of {@code rule} is active and every active one is a permutation applied as a gather. */
    private static boolean fixedGathersOnly(AxisRule rule, SlotElements el) {
        boolean any = false;
        for (SlotRef ref : rule.slots()) {
            if (el.active(ref)) {
                if (!ref.kind().isPermutation() || el.learning(ref)) {
                    return false;
                }
                any = true;
            }
        }
        return any;
    }

    /** Takes the pending factor (see {@link #apply(TransformSpec, Transform, Weights, Collection, double)}): 1 afterwards. */
    private static double take(double[] pending) {
        double f = pending[0];
        pending[0] = 1.0;
        return f;
    }

    /** {@code m} times the pending factor, if any. */
    private static NDArray scaled(NDArray m, double[] pending) {
        return times(m, take(pending));
    }

    /** x times f (x itself for 1), the scalar libtorch-owned: autograd keeps it past this apply ({@link Nn#times}). */
    private static NDArray times(NDArray x, double f) {
        return f == 1.0 ? x : Nn.times(x, f);
    }

    /** T X on an output axis, T^{-T} X on an input axis, with X the axis as rows. */
    private static NDArray transformAxis(NDArray w, AxisRule rule, boolean output, SlotElements el, TransformSpec spec,
                                         double[] pending) {
        if (!anyActive(rule, el)) {
            return w;
        }
        int axis = rule.storageAxis();
        AxisLayout layout = rule.layout();
        if (axis > 0 && axis == w.getShape().dimension() - 1 && !(layout instanceof AxisLayout.Heads)
                && columnsWithoutMoving(rule, el)) {
            // The last axis (every reader's input axis, the embedding's width): act on the columns
            // in place, W T^{-1} rather than (T^{-T} W^T)^T, so no transposed copy of the tensor
            // is made and the result is contiguous.
            NDArray r = w;
            List<SlotRef> active = activeSlots(rule, el);
            for (int i = 0; i < active.size(); i++) {
                if (rotationThenScale(active, i)) {
                    // W O diag(s) as one product with the small O diag(s): the scale costs d^2, not a pass
                    // over the tensor (and its gradient a d x d sum, not one over the tensor).
                    NDArray s = scaleOf(active.get(i + 1), output, el);
                    NDArray m = el.element(active.get(i)).get(0).mul(s.reshape(1, s.getShape().size()));
                    r = r.matMul(scaled(m, pending));
                    i++;
                } else {
                    r = columnAction(r, active.get(i), output, el, pending);
                }
            }
            return r;
        }
        NDArray moved = axis == 0 ? w : w.swapAxes(0, axis);
        Shape movedShape = moved.getShape();
        long n = movedShape.get(0);
        NDArray x = moved.reshape(n, movedShape.size() / n);
        List<SlotRef> active = activeSlots(rule, el);
        for (int i = 0; i < active.size(); i++) {
            SlotRef ref = active.get(i);
            if (layout instanceof AxisLayout.Heads heads && folds(ref) && blockDiagonal(heads, spec.dims())) {
                // The head maps come last on a head axis: all of them in one batched product.
                x = headMaps(x, heads, active.subList(i, active.size()), output, el, pending);
                break;
            } else if (layout instanceof AxisLayout.Heads heads) {
                x = headAction(x, heads, ref, output, el, spec.dims(), pending);
            } else if (rotationThenScale(active, i)) {
                // diag(s) O^T X as one product with the small diag(s) O^T (see the column case).
                NDArray s = scaleOf(active.get(i + 1), output, el);
                NDArray m = el.element(ref).get(0).transpose().mul(s.reshape(s.getShape().size(), 1));
                x = scaled(m, pending).matMul(x);
                i++;
            } else {
                x = rowAction(x, ref, output, el, pending);
            }
        }
        x = x.reshape(movedShape);
        return axis == 0 ? x : x.swapAxes(0, axis);
    }

    private static List<SlotRef> activeSlots(AxisRule rule, SlotElements el) {
        List<SlotRef> out = new ArrayList<>();
        for (SlotRef ref : rule.slots()) {
            if (el.active(ref)) {
                out.add(ref);
            }
        }
        return out;
    }

    /** True if active slot i is the residual rotation and the next one the residual scale (a writer axis). */
    private static boolean rotationThenScale(List<SlotRef> active, int i) {
        return active.get(i).kind() == SlotKind.RESIDUAL_ROTATION && i + 1 < active.size()
                && active.get(i + 1).kind() == SlotKind.RESIDUAL_SCALE;
    }

    /** The scale vector (or single factor) a scale slot applies on this axis: its element on an output axis, else its inverse. */
    private static NDArray scaleOf(SlotRef ref, boolean output, SlotElements el) {
        return (output ? el.element(ref) : el.inverse(ref)).get(0);
    }

    /** True if every active slot of {@code rule} can act on the last axis as columns (no hard gather). */
    private static boolean columnsWithoutMoving(AxisRule rule, SlotElements el) {
        for (SlotRef ref : rule.slots()) {
            if (el.active(ref) && ref.kind().isPermutation() && !el.learning(ref)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The row action of {@link #rowAction} on the last axis of w seen as columns: with X the
     * axis as rows, X = W^T, so M X becomes W M^T: the rotation's O^T X becomes W O, scales
     * multiply the columns, a permutation matrix P becomes W P^T.
     */
    private static NDArray columnAction(NDArray w, SlotRef ref, boolean output, SlotElements el, double[] pending) {
        switch (ref.kind()) {
            case RESIDUAL_ROTATION:
                return w.matMul(scaled(el.element(ref).get(0), pending));
            case RESIDUAL_SCALE:
            case FFN_SCALE:
                return w.mul(scaled((output ? el.element(ref) : el.inverse(ref)).get(0), pending));
            case FFN_PERMUTATION:
                return w.matMul(scaled(el.element(ref).get(0).transpose(), pending));
            default:
                throw new IllegalStateException("slot kind " + ref.kind() + " cannot act on a residual or FFN axis");
        }
    }

    /** Residual and FFN axes: one element acting on all rows. */
    private static NDArray rowAction(NDArray x, SlotRef ref, boolean output, SlotElements el, double[] pending) {
        switch (ref.kind()) {
            case RESIDUAL_ROTATION: {
                // Orthogonal: T^{-T} = T, and T = O^T on both sides.
                return scaled(el.element(ref).get(0).transpose(), pending).matMul(x);
            }
            case RESIDUAL_SCALE:
            case FFN_SCALE: {
                NDArray s = scaled((output ? el.element(ref) : el.inverse(ref)).get(0), pending);
                return x.mul(s.reshape(s.getShape().size(), 1));
            }
            case FFN_PERMUTATION:
                return permuteRows(x, ref, el, 0);
            default:
                throw new IllegalStateException("slot kind " + ref.kind() + " cannot act on a residual or FFN axis");
        }
    }

    /** Rows of x permuted by copy {@code copy} of a permutation slot: (P X)[i] = X[perm[i]]. */
    private static NDArray permuteRows(NDArray x, SlotRef ref, SlotElements el, int copy) {
        if (el.learning(ref)) {
            return el.element(ref).get(copy).matMul(x);
        }
        long[] all = el.indices(ref);
        int n = (int) x.getShape().get(0);
        long[] idx = new long[n];
        System.arraycopy(all, copy * n, idx, 0, n);
        return x.get(el.indexArray(idx));
    }

    /**
     * A head axis: split into role sections of [heads, headDim, rest], act on each section by role,
     * and reassemble in the axis' fused layout.
     */
    private static NDArray headAction(NDArray x, AxisLayout.Heads layout, SlotRef ref, boolean output, SlotElements el,
                                      SpecDimensions dims, double[] pending) {
        int roles = layout.roles().size();
        long rest = x.getShape().get(1);
        int h = layout.heads();
        int hd = layout.headDim();
        NDArray sections = layout.headMajor()
                ? x.reshape(h, roles, hd, rest).transpose(1, 0, 2, 3)
                : x.reshape(roles, h, hd, rest);
        List<NDArray> parts = new ArrayList<>();
        for (int s = 0; s < roles; s++) {
            parts.add(roleAction(sections.get(s), layout.roles().get(s), ref, output, el, dims, pending[0]));
        }
        if (folds(ref)) {
            take(pending); // every role section took it (roleAction scales its map, or the section itself)
        }
        NDArray joined = roles == 1 ? parts.get(0).expandDims(0) : NDArrays.stack(new NDList(parts));
        if (layout.headMajor()) {
            joined = joined.transpose(1, 0, 2, 3);
        }
        return joined.reshape(x.getShape());
    }

    /**
     * True if a fused head-major axis ([q_h | k_h | v_h] per head) without grouped queries can take
     * its head maps as one block-diagonal map per head: the axis is then a free view
     * [heads, roles x hd, rest], so no role section is split off and stacked back.
     */
    private static boolean blockDiagonal(AxisLayout.Heads layout, SpecDimensions dims) {
        return layout.headMajor() && layout.roles().size() > 1 && dims.groupSize() == 1;
    }

    /**
     * The head maps {@code maps} (qk, vo) on a {@link #blockDiagonal} axis: per head, the
     * block-diagonal matrix of each role's map (the identity for a role no map acts on), times the
     * pending factor, applied by one batched product. The maps are those {@link #roleAction} uses.
     */
    private static NDArray headMaps(NDArray x, AxisLayout.Heads layout, List<SlotRef> maps, boolean output,
                                    SlotElements el, double[] pending) {
        int h = layout.heads();
        int hd = layout.headDim();
        List<HeadRole> roles = layout.roles();
        NDArray[] blocks = new NDArray[roles.size()];
        for (SlotRef ref : maps) {
            if (!folds(ref)) {
                throw new IllegalStateException("slot " + ref.slotName() + " after the head maps of an axis");
            }
            for (int r = 0; r < roles.size(); r++) {
                NDArray m = roleMap(ref, roles.get(r), output, el);
                if (m != null) {
                    blocks[r] = blocks[r] == null ? m : m.matMul(blocks[r]);
                }
            }
        }
        NDManager mgr = x.getManager();
        List<NDArray> rows = new ArrayList<>();
        for (int r = 0; r < roles.size(); r++) {
            List<NDArray> row = new ArrayList<>();
            for (int c = 0; c < roles.size(); c++) {
                if (c != r) {
                    row.add(mgr.zeros(new Shape(h, hd, hd), x.getDataType()));
                } else if (blocks[r] != null) {
                    row.add(blocks[r]);
                } else {
                    row.add(MatrixFunctions.eye(mgr, hd, x.getDataType()).expandDims(0).repeat(0, h));
                }
            }
            rows.add(NDArrays.concat(new NDList(row), 2));
        }
        NDArray m = NDArrays.concat(new NDList(rows), 1); // [h, roles x hd, roles x hd]
        long rest = x.getShape().get(1);
        NDArray y = scaled(m, pending).matMul(x.reshape(h, (long) roles.size() * hd, rest));
        return y.reshape(x.getShape());
    }

    /** The map slot {@code ref} applies to role {@code role}'s rows, or null if it leaves them alone. */
    private static NDArray roleMap(SlotRef ref, HeadRole role, boolean output, SlotElements el) {
        if (ref.kind() == SlotKind.QK) {
            if (role == HeadRole.Q) {
                return output ? el.element(ref) : el.inverseTranspose(ref);
            }
            if (role == HeadRole.K) {
                return output ? el.inverseTranspose(ref) : el.element(ref);
            }
            return null;
        }
        if (role == HeadRole.V || role == HeadRole.O) {
            return output ? el.element(ref) : el.inverseTranspose(ref);
        }
        return null;
    }

    /** Whether a head-axis slot takes the pending factor (head maps do; permutations gather). */
    private static boolean folds(SlotRef ref) {
        return ref.kind() == SlotKind.QK || ref.kind() == SlotKind.VO;
    }

    /**
     * One role section xs [heads, hd, rest]; a head-map slot multiplies by {@code factor} as
     * well (its map scaled, or the section itself for a role the map leaves alone).
     */
    private static NDArray roleAction(NDArray xs, HeadRole role, SlotRef ref, boolean output, SlotElements el,
                                      SpecDimensions dims, double factor) {
        int kv = dims.kvHeads();
        int g = role.perQueryHead() ? dims.groupSize() : 1;
        Shape shape = xs.getShape();
        switch (ref.kind()) {
            case HEAD_GROUPS:
                // Whole KV groups move (with their G query heads for Q/O axes).
                return permuteRows(xs.reshape(kv, -1), ref, el, 0).reshape(shape);
            case HEADS_IN_GROUP: {
                if (g == 1) {
                    return xs;
                }
                if (el.learning(ref)) {
                    return el.element(ref).matMul(xs.reshape(kv, g, -1)).reshape(shape);
                }
                long[] within = el.indices(ref);
                long[] idx = new long[within.length];
                for (int i = 0; i < within.length; i++) {
                    idx[i] = (i / g) * (long) g + within[i];
                }
                return xs.reshape(kv * g, -1).get(el.indexArray(idx)).reshape(shape);
            }
            case QK: {
                NDArray m;
                if (role == HeadRole.Q) {
                    m = output ? el.element(ref) : el.inverseTranspose(ref);
                } else if (role == HeadRole.K) {
                    m = output ? el.inverseTranspose(ref) : el.element(ref);
                } else {
                    return times(xs, factor);
                }
                return perGroupMatMul(times(m, factor), xs, kv, g);
            }
            case VO: {
                if (role != HeadRole.V && role != HeadRole.O) {
                    return times(xs, factor);
                }
                NDArray m = output ? el.element(ref) : el.inverseTranspose(ref);
                return perGroupMatMul(times(m, factor), xs, kv, g);
            }
            default:
                throw new IllegalStateException("slot kind " + ref.kind() + " cannot act on a head axis");
        }
    }

    /** Block (group c, head j) of xs [kv*g, hd, rest] becomes m[c] times the block: one batched matmul over groups. */
    private static NDArray perGroupMatMul(NDArray m, NDArray xs, int kv, int g) {
        Shape shape = xs.getShape();
        long hd = shape.get(1);
        long rest = shape.get(2);
        if (g == 1) {
            return m.matMul(xs);
        }
        NDArray grouped = xs.reshape(kv, g, hd, rest).transpose(0, 2, 1, 3).reshape(kv, hd, g * rest);
        return m.matMul(grouped).reshape(kv, hd, g, rest).transpose(0, 2, 1, 3).reshape(shape);
    }
}
