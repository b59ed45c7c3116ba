package dev.lmcmerge.symmetry;

import java.util.List;

/**
 * How the index of one tensor axis decomposes into the units the slots act on.
 * {@link #size()} is the axis length, checked against the architecture's tensor shapes.
 */
public sealed interface AxisLayout permits AxisLayout.Residual, AxisLayout.Heads, AxisLayout.Units {

    /** Length of the axis. */
    int size();

    /** The residual stream axis (d). */
    record Residual(int size, ResidualSide side) implements AxisLayout {
    }

    /**
     * An attention axis made of head blocks of {@code headDim} entries, for one or more roles.
     * With several roles the axis is fused: {@code headMajor} means index
     * {@code (h * roles + r) * headDim + i} (gpt_neox query_key_value rows: [q_h|k_h|v_h] per head),
     * otherwise {@code (r * heads + h) * headDim + i} (gpt2 c_attn columns: [Q|K|V] sections).
     * A single role is simply {@code h * headDim + i}.
     */
    record Heads(List<HeadRole> roles, int heads, int headDim, boolean headMajor) implements AxisLayout {
        public Heads {
            roles = List.copyOf(roles);
        }

        @Override
        public int size() {
            return roles.size() * heads * headDim;
        }
    }

    /** A plain axis of independent units (FFN hidden units). */
    record Units(int size) implements AxisLayout {
    }
}
