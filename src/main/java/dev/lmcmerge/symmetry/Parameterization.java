package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import java.util.function.UnaryOperator;

/**
 * A differentiable map from an unconstrained parameter array to one group element
 * (an orthogonal or invertible matrix, a scale vector, a permutation). The transform
 * engine only ever calls {@link #materialize}, {@link #materializeInverse} and
 * {@link #materializeInverseTranspose}, so gradients flow from the loss to the parameters
 * through DJL autograd. Parameters are float32 by default; implementations also accept float64
 * parameters and return an element of the parameters' data type.
 */
public interface Parameterization {

    /** Shape of the parameter array. */
    Shape paramShape();

    /** Parameters of the identity element. */
    NDArray identityParams(NDManager manager);

    /** Parameters of a random element well away from the identity (for tests and `lmc transform`). */
    NDArray randomParams(NDManager manager, Random rng);

    /** The group element for {@code params}; differentiable in {@code params}. */
    NDArray materialize(NDArray params);

    /**
     * The exact inverse of {@link #materialize} (for orthogonal maps its transpose), computed
     * without a general matrix inverse where the structure allows; differentiable in {@code params}.
     */
    NDArray materializeInverse(NDArray params);

    /**
     * The inverse transpose of a matrix element (A^{-T}), as applied to K rows when A acts on Q
     * rows. The default transposes {@link #materializeInverse}; matrix families override it with
     * an exact closed form. For vector elements (scales) it equals {@link #materializeInverse}.
     */
    default NDArray materializeInverseTranspose(NDArray params) {
        NDArray inv = materializeInverse(params);
        return inv.getShape().dimension() == 2 ? inv.transpose() : inv;
    }

    /**
     * {@link #materialize} of every row of {@code params} [G, ...paramShape], stacked: [G, ...element shape].
     * The default materializes one element at a time; matrix families override it with a few
     * batched operations whatever G is (equal to the per-element result to rounding error, with the
     * same gradients), which is what makes applying a transform with many heads fast.
     */
    default NDArray materializeBatch(NDArray params) {
        return eachRow(params, this::materialize);
    }

    /** {@link #materializeInverse} of every row of {@code params} [G, ...paramShape], stacked. */
    default NDArray materializeInverseBatch(NDArray params) {
        return eachRow(params, this::materializeInverse);
    }

    /** {@link #materializeInverseTranspose} of every row of {@code params} [G, ...paramShape], stacked. */
    default NDArray materializeInverseTransposeBatch(NDArray params) {
        return eachRow(params, this::materializeInverseTranspose);
    }

    /**
     * {@link #materializeBatch} and {@link #materializeInverseTransposeBatch} of the same
     * parameters, as {element, inverse transpose}: the pair a head map needs (A on query rows and
     * A^{-T} on key rows; C on value rows and C^{-T} on output-projection columns). Families whose
     * two forms share work (the rotation factor of a polar map) override it to do that work once.
     */
    default NDArray[] materializeWithInverseTransposeBatch(NDArray params) {
        return new NDArray[] {materializeBatch(params), materializeInverseTransposeBatch(params)};
    }

    /** The per-row fallback of the batched methods: f of every row of params, stacked. */
    private static NDArray eachRow(NDArray params, UnaryOperator<NDArray> f) {
        long g = params.getShape().get(0);
        NDList out = new NDList();
        for (long i = 0; i < g; i++) {
            out.add(f.apply(params.get(i)));
        }
        return g == 1 ? out.get(0).expandDims(0) : NDArrays.stack(out);
    }
}
