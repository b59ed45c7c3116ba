package dev.lmcmerge.model;

import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor of the stock Hugging Face checkpoint of a configured model.
 *
 * @param name   the Hugging Face name, exactly as in {@code model.safetensors}
 * @param shape  the expected shape
 * @param layer  the block index, or -1 for model-level tensors (embeddings, final norm, head)
 * @param role   how the tensor touches the residual stream
 * @param tiedTo for a tied unembedding, the name of the embedding it shares (the tensor is then
 *               usually absent from the file); {@code null} otherwise
 */
public record TensorSpec(String name, long[] shape, int layer, Role role, String tiedTo) {

    /** How a tensor relates to the residual stream (DESIGN.md sections 4-5). */
    public enum Role {
        /** Writes into the residual stream: its output axis is the residual (embeddings, output projections, their biases). */
        WRITER,
        /** Reads the residual stream: its input axis is the residual (QKV, MLP input, unembedding, classifier). */
        READER,
        /** Bias of a reader: its axis follows the reader's output axis, not the residual. */
        READER_BIAS,
        /** A norm's gain or bias (on the residual axis). */
        NORM
    }

    public TensorSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(role, "role");
        shape = shape.clone();
    }

    /** An untied tensor. */
    public TensorSpec(String name, long[] shape, int layer, Role role) {
        this(name, shape, layer, role, null);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** True if this tensor shares the storage of {@link #tiedTo()} and may be absent from the file. */
    public boolean tied() {
        return tiedTo != null;
    }

    public long numel() {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && name.equals(t.name) && Arrays.equals(shape, t.shape)
                && layer == t.layer && role == t.role && Objects.equals(tiedTo, t.tiedTo);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, Arrays.hashCode(shape), layer, role, tiedTo);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + (tiedTo == null ? "" : " (tied to " + tiedTo + ")");
    }
}
