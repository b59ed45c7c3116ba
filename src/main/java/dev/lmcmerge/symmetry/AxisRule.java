package dev.lmcmerge.symmetry;

import java.util.List;

/**
 * One transformed axis of a tensor: its index in the stored tensor, its layout and the slots
 * acting on it in order (the first listed acts first). For an output axis the composed map is
 * T = T_k ... T_1 and the tensor becomes T W; for an input axis it becomes W T^{-1}.
 */
public record AxisRule(int storageAxis, AxisLayout layout, List<SlotRef> slots) {
    public AxisRule {
        slots = List.copyOf(slots);
    }
}
