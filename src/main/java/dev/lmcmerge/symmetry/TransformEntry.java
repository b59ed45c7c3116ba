package dev.lmcmerge.symmetry;

/**
 * One slot's parameters as plain values, for storage as a table row (the merge job writes
 * these to Parquet) and for reloading with {@link Transform#fromEntries}.
 *
 * @param slot   slot name, e.g. {@code qk.3}
 * @param layer  0-based layer, -1 for model-wide slots
 * @param kind   the slot kind
 * @param shape  the parameter array's shape ([count, ...paramShape])
 * @param values the parameters in row-major order
 */
public record TransformEntry(String slot, int layer, SlotKind kind, long[] shape, float[] values) {
    public TransformEntry {
        shape = shape.clone();
        values = values.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public float[] values() {
        return values.clone();
    }
}
