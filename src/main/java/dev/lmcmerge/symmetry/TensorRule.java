package dev.lmcmerge.symmetry;

/**
 * One row of a {@link TransformSpec}: a Hugging Face tensor name and the rules for its logical
 * output axis and input axis (either may be null: not transformed). For a Linear weight
 * [out, in] the output axis is stored axis 0; for GPT-2 Conv1D [in, out] and embeddings
 * [V, d] (rows are residual vectors) it is stored axis 1.
 *
 * @param optional true if the tensor exists only under some config flags (e.g. q/k/v biases);
 *                 the spec drops optional rules the architecture does not list
 */
public record TensorRule(String name, AxisRule out, AxisRule in, boolean optional) {

    /** True if the tensor adds to the residual stream (its output axis is a residual writer axis). */
    public boolean isResidualWriter() {
        return out != null && out.layout() instanceof AxisLayout.Residual r && r.side() == ResidualSide.WRITE;
    }
}
