package dev.lmcmerge.align;

import dev.lmcmerge.symmetry.AxisLayout;
import dev.lmcmerge.symmetry.AxisRule;
import dev.lmcmerge.symmetry.SlotKind;
import dev.lmcmerge.symmetry.SlotRef;
import dev.lmcmerge.symmetry.TensorRule;
import dev.lmcmerge.symmetry.TransformSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a {@link TransformSpec} table from the matching side: which tensor axes a slot acts on,
 * and which residual axes can be compared before any permutation is known. Matching never names
 * a tensor; everything it compares comes from here.
 */
final class SpecAxes {
    private SpecAxes() {
    }

    /** One transformed axis of one tensor. */
    record Use(TensorRule rule, AxisRule axis, boolean output) {
        String tensor() {
            return rule.name();
        }

        /** The axis rule of the tensor's other axis, or null. */
        AxisRule other() {
            return output ? rule.in() : rule.out();
        }

        boolean has(SlotKind kind) {
            for (SlotRef r : axis.slots()) {
                if (r.kind() == kind) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Every axis, in table order, on which the slot {@code kind} of {@code layer} acts. */
    static List<Use> uses(TransformSpec spec, SlotKind kind, int layer) {
        List<Use> out = new ArrayList<>();
        for (TensorRule r : spec.rules().values()) {
            addIf(out, r, r.out(), true, kind, layer);
            addIf(out, r, r.in(), false, kind, layer);
        }
        return out;
    }

    private static void addIf(List<Use> out, TensorRule r, AxisRule a, boolean output, SlotKind kind, int layer) {
        if (a == null) {
            return;
        }
        for (SlotRef ref : a.slots()) {
            if (ref.kind() == kind && ref.layer() == layer) {
                out.add(new Use(r, a, output));
                return;
            }
        }
    }

    /**
     * Every residual axis. With {@code isolatedOnly}, only those whose tensor has no other
     * transformed axis (embeddings, unembedding, writer and norm biases): their rows can be
     * compared between two models before heads and FFN units are matched.
     */
    static List<Use> residualUses(TransformSpec spec, boolean isolatedOnly) {
        List<Use> out = new ArrayList<>();
        for (TensorRule r : spec.rules().values()) {
            for (int side = 0; side < 2; side++) {
                AxisRule a = side == 0 ? r.out() : r.in();
                AxisRule other = side == 0 ? r.in() : r.out();
                if (a == null || !(a.layout() instanceof AxisLayout.Residual)) {
                    continue;
                }
                if (isolatedOnly && other != null && !other.slots().isEmpty()) {
                    continue;
                }
                out.add(new Use(r, a, side == 0));
            }
        }
        return out;
    }
}
