package dev.lmcmerge.symmetry;

import ai.djl.ndarray.types.Shape;

/**
 * One group slot of a {@link TransformSpec}: a named set of {@code count} independent group
 * elements of one {@link SlotKind}, each parameterized by {@link #parameterization()}. Its
 * parameter array has shape {@code [count, ...parameterization.paramShape()]} (count is the
 * number of KV groups for qk/vo/heads-in-group slots, 1 otherwise).
 *
 * @param name  unique name, e.g. {@code residual}, {@code heads.3}, {@code qk.3}
 * @param layer 0-based layer, or -1 for the model-wide slots
 */
public record Slot(String name, SlotKind kind, int layer, int count, Parameterization parameterization) {

    /** The slot name for {@code kind} at {@code layer} (layer ignored for global kinds). */
    public static String nameOf(SlotKind kind, int layer) {
        return switch (kind) {
            case RESIDUAL_ROTATION -> "residual";
            case RESIDUAL_SCALE -> "residual_scale";
            case HEAD_GROUPS -> "heads." + layer;
            case HEADS_IN_GROUP -> "heads_in_group." + layer;
            case QK -> "qk." + layer;
            case VO -> "vo." + layer;
            case FFN_PERMUTATION -> "ffn." + layer;
            case FFN_SCALE -> "ffn_scale." + layer;
        };
    }

    /**
     * Shape of a fixed permutation slot's parameters in index form, {@code [count, n]} (entry i
     * of copy c is perm[i] as a float), or null for slots that are not permutations. Matched
     * permutations are kept that way: an FFN permutation's latent is n x n (256 MB at n = 8192),
     * its index form n numbers. Only learned permutations need the latent.
     */
    public Shape indexShape() {
        return parameterization instanceof Permutation p ? new Shape(count, p.size()) : null;
    }

    /** True if {@code shape} is this slot's parameter shape or (for permutations) its index form. */
    public boolean accepts(Shape shape) {
        return shape.equals(paramShape()) || shape.equals(indexShape());
    }

    /** True if {@code params} hold a permutation slot in index form ({@link #indexShape()}). */
    public boolean isIndexForm(ai.djl.ndarray.NDArray params) {
        return params.getShape().equals(indexShape()) && !params.getShape().equals(paramShape());
    }

    /** Shape of this slot's parameter array: {@code [count, ...paramShape]}. */
    public Shape paramShape() {
        long[] inner = parameterization.paramShape().getShape();
        long[] s = new long[inner.length + 1];
        s[0] = count;
        System.arraycopy(inner, 0, s, 1, inner.length);
        return new Shape(s);
    }
}
