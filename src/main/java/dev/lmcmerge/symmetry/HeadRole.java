package dev.lmcmerge.symmetry;

/**
 * The part an attention tensor's head axis plays. Q and O axes have one block per query head,
 * K and V axes one per KV group; the role decides which element of each head slot acts:
 * heads: Q/O the full head permutation, K/V the group permutation; qk: Q gets A, K gets A^{-T};
 * vo: V gets C, O (an input axis) gets C^{-1} on its columns.
 */
public enum HeadRole {
    Q, K, V, O;

    /** True if this role has one block per query head (Q, O), false for per-KV-group roles. */
    public boolean perQueryHead() {
        return this == Q || this == O;
    }
}
