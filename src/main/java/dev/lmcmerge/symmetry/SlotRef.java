package dev.lmcmerge.symmetry;

/**
 * A reference from a tensor rule to a slot: its kind and layer (-1 for model-wide slots).
 * Resolved to a {@link Slot} by name through {@link Slot#nameOf}.
 */
public record SlotRef(SlotKind kind, int layer) {

    public static SlotRef global(SlotKind kind) {
        return new SlotRef(kind, -1);
    }

    public static SlotRef at(SlotKind kind, int layer) {
        return new SlotRef(kind, layer);
    }

    /** The referenced slot's name. */
    public String slotName() {
        return Slot.nameOf(kind, layer);
    }

    @Override
    public String toString() {
        return slotName();
    }
}
