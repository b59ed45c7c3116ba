package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import dev.lmcmerge.model.Nn;
import ai.djl.ndarray.NDManager;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.model.Weights;
import java.util.Map;

/**
 * The straight line between two models' (transformed canonical) weights, name by name.
 * Convention: {@code lerp(a, b, alpha) = (1 - alpha) a + alpha b}, so alpha 0 is a and 1 is b.
 */
public final class Interpolation {
    private Interpolation() {
    }

    /**
     * (1 - alpha) a + alpha b for every tensor. Both must hold the same names and shapes.
     * The result lives in a new sub-manager of {@code a}'s manager.
     *
     * @throws LmcException INCOMPATIBLE_MODELS naming the first differing tensor
     */
    public static Weights lerp(Weights a, Weights b, double alpha) {
        if (!a.names().equals(b.names())) {
            throw LmcException.incompatible("cannot interpolate " + a.source() + " and " + b.source()
                    + ": different tensor names");
        }
        Weights out = new Weights(a.manager().newSubManager(), "lerp(" + a.source() + ", " + b.source() + ", " + alpha + ")");
        try (NDManager scope = a.manager().newSubManager()) {
            for (Map.Entry<String, NDArray> e : a.asMap().entrySet()) {
                NDArray x = e.getValue();
                NDArray y = b.get(e.getKey());
                if (!x.getShape().equals(y.getShape())) {
                    out.close();
                    throw LmcException.incompatible("cannot interpolate " + a.source() + " and " + b.source()
                            + ": tensor " + e.getKey() + " has shapes " + x.getShape() + " and " + y.getShape());
                }
                Scopes.borrow(x, scope);
                Scopes.borrow(y, scope);
                NDArray r = Nn.times(x, 1 - alpha).add(Nn.times(y, alpha)); // autograd-safe scalars
                r.attach(out.manager());
                out.put(e.getKey(), r);
            }
        }
        return out;
    }

    /**
     * The norm eps factor of an interpolated model whose endpoints have eps factors
     * {@code epsScaleA} and {@code epsScaleB} (c_A^2 and c_B^2): the residual scale is
     * interpolated, c = (1 - alpha) c_A + alpha c_B, and the factor is c^2. Exact at the
     * endpoints; in between it is the natural choice, as the merged stream scales like c.
     */
    public static double epsScale(double epsScaleA, double epsScaleB, double alpha) {
        double c = (1 - alpha) * Math.sqrt(epsScaleA) + alpha * Math.sqrt(epsScaleB);
        return c * c;
    }

}
