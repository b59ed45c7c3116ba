package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

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
}
