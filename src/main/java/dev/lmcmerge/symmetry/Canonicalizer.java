package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.model.Weights;

/**
 * The exact canonical form of a model (SYMMETRIES.md section 0 N1-N3, DESIGN.md "Canonical form"),
 * with the same tensor names and shapes as the stock checkpoint:
 * <ol>
 *   <li>tied unembeddings are untied (written explicitly);</li>
 *   <li>each norm's weight gamma is folded into the input axis of every reader after it, and its
 *       bias beta into the readers' biases (b += W beta); where a reader has no bias in the stock
 *       architecture the norm keeps beta/gamma as its bias (refused if gamma_i = 0 with beta_i != 0);
 *       norm weights become 1 and folded biases 0;</li>
 *   <li>for LayerNorm families, every residual writer and embedding is centered over the residual
 *       axis, so the stream is centered and LayerNorm acts as RMSNorm (no custom block needed).</li>
 * </ol>
 * The stock forward of the result equals the original's.
 */
public final class Canonicalizer {
    private Canonicalizer() {
    }

    /**
     * The canonical form of {@code original}. Tensors the form does not change are shared with
     * {@code original}; new ones live in the result's manager (a sub-manager of the original's).
     *
     * @throws LmcException INVALID_INPUT if a norm whose bias must be kept has a zero weight entry
     */
    public static Weights canonicalize(TransformSpec spec, Weights original) {
        Weights out = new Weights(original.manager().newSubManager(), original.source() + " (canonical)");
        for (String name : original.names()) {
            out.put(name, original.get(name));
        }
        try (NDManager scope = original.manager().newSubManager()) {
            if (spec.tiedHead() != null && !original.has(spec.tiedHead())) {
                out.put(spec.tiedHead(), keep(original.get(spec.tiedEmbedding()).duplicate(), out));
            }
            for (NormRule norm : spec.norms()) {
                foldNorm(spec, norm, out, scope);
            }
            if (spec.layerNorm()) {
                for (TensorRule rule : spec.rules().values()) {
                    if (rule.isResidualWriter()) {
                        NDArray w = out.get(rule.name());
                        Scopes.borrow(w, scope);
                        out.put(rule.name(), keep(w.sub(w.mean(new int[] {rule.out().storageAxis()}, true)), out));
                    }
                }
            }
        }
        return out;
    }

    private static void foldNorm(TransformSpec spec, NormRule norm, Weights w, NDManager scope) {
        NDArray gamma = w.get(norm.weight());
        NDArray beta = norm.bias() == null ? null : w.get(norm.bias());
        Scopes.borrow(gamma, scope);
        if (beta != null) {
            Scopes.borrow(beta, scope);
        }
        boolean keepBias = beta != null && norm.readers().stream().anyMatch(r -> r.bias() == null);
        if (keepBias) {
            checkDivisible(w.source(), norm, gamma, beta);
        }
        for (NormRule.Reader reader : norm.readers()) {
            NDArray weight = w.get(reader.weight());
            Scopes.borrow(weight, scope);
            int inAxis = spec.rule(reader.weight()).in().storageAxis();
            if (beta != null && !keepBias) {
                NDArray bias = w.get(reader.bias());
                Scopes.borrow(bias, scope);
                w.put(reader.bias(), keep(bias.add(contract(weight, beta, inAxis).reshape(bias.getShape())), w));
            }
            w.put(reader.weight(), keep(weight.mul(gamma.reshape(broadcastShape(weight.getShape(), inAxis))), w));
        }
        w.put(norm.weight(), keep(gamma.onesLike(), w));
        if (beta != null) {
            // gamma_i = 0 only where beta_i = 0 (checked), and there the kept bias is 0.
            NDArray kept = keepBias
                    ? beta.div(gamma.add(gamma.eq(0).toType(DataType.FLOAT32, false)))
                    : beta.zerosLike();
            w.put(norm.bias(), keep(kept, w));
        }
    }

    private static void checkDivisible(String source, NormRule norm, NDArray gamma, NDArray beta) {
        float[] g = gamma.toFloatArray();
        float[] b = beta.toFloatArray();
        for (int i = 0; i < g.length; i++) {
            if (g[i] == 0 && b[i] != 0) {
                String reader = norm.readers().stream().filter(r -> r.bias() == null).findFirst().orElseThrow().weight();
                throw LmcException.invalidInput(source, "norm weight " + norm.weight() + " is 0 at index " + i
                        + " while its bias " + norm.bias() + " is " + b[i] + "; its reader " + reader
                        + " has no bias, so the canonical form must keep the bias as beta/gamma and cannot;"
                        + " expected a norm weight without zeros where the bias is nonzero");
            }
        }
    }

    /** sum over the input axis of W times beta: the reader's response to a constant input beta. */
    private static NDArray contract(NDArray weight, NDArray beta, int inAxis) {
        NDArray moved = inAxis == 0 ? weight : weight.swapAxes(0, inAxis);
        long n = moved.getShape().get(0);
        NDArray x = moved.reshape(n, moved.getShape().size() / n);
        return beta.reshape(1, n).matMul(x);
    }

    private static Shape broadcastShape(Shape shape, int axis) {
        long[] s = new long[shape.dimension()];
        java.util.Arrays.fill(s, 1);
        s[axis] = shape.get(axis);
        return new Shape(s);
    }

    private static NDArray keep(NDArray a, Weights w) {
        a.attach(w.manager());
        return a;
    }
}
