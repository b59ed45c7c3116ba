package dev.lmcmerge.symmetry;

/**
 * What one slot of a {@link TransformSpec} is: which group element it parameterizes and how
 * that element acts on an axis (see {@link AxisLayout}). Every kind belongs to one
 * user-facing {@link SlotGroup}.
 */
public enum SlotKind {
    /** Orthogonal O (d x d), one per model; its action on residual axes (as rows) is O^T. */
    RESIDUAL_ROTATION(SlotGroup.RESIDUAL, true),
    /** Scalar c > 0, one per model, on residual writers only; every norm eps becomes c^2 eps. */
    RESIDUAL_SCALE(SlotGroup.SCALE, true),
    /** Permutation of the KV groups of a layer (of the heads when there is no GQA). */
    HEAD_GROUPS(SlotGroup.HEADS, false),
    /** One permutation of the query heads within each KV group of a layer (GQA only). */
    HEADS_IN_GROUP(SlotGroup.HEADS, false),
    /** One invertible head_dim map A_g per KV group: q <- A q, k <- A^{-T} k. */
    QK(SlotGroup.QK, false),
    /** One invertible head_dim map C_g per KV group: v <- C v, output-projection columns <- * C^{-1}. */
    VO(SlotGroup.VO, false),
    /** Permutation of a layer's FFN units. */
    FFN_PERMUTATION(SlotGroup.FFN, false),
    /** Positive per-unit scale of a gated MLP's linear (up) branch; down-projection columns get 1/s. */
    FFN_SCALE(SlotGroup.SCALE, false);

    private final SlotGroup group;
    private final boolean global;

    SlotKind(SlotGroup group, boolean global) {
        this.group = group;
        this.global = global;
    }

    /** The user-facing group that switches this kind on. */
    public SlotGroup group() {
        return group;
    }

    /** True for the model-wide slots (one per model), false for per-layer slots. */
    public boolean global() {
        return global;
    }

    /** True for kinds whose element is a permutation. */
    public boolean isPermutation() {
        return this == HEAD_GROUPS || this == HEADS_IN_GROUP || this == FFN_PERMUTATION;
    }
}
