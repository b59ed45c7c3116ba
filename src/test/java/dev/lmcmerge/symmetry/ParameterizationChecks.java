package dev.lmcmerge.symmetry;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import java.util.function.Function;

/** Shared assertions for the parameterization tests (not a test class itself). */
final class ParameterizationChecks {
    private ParameterizationChecks() {
    }

    static double maxAbs(NDArray a) {
        return a.abs().max().toType(DataType.FLOAT64, false).getDouble();
    }

    /** max |a - b|. */
    static double maxAbsDiff(NDArray a, NDArray b) {
        return maxAbs(a.toType(DataType.FLOAT64, false).sub(b.toType(DataType.FLOAT64, false)));
    }

    static double maxAbsFromIdentity(NDArray a) {
        return maxAbsDiff(a, a.getManager().eye((int) a.getShape().get(0)));
    }

    static void assertIdentity(NDArray a, double tol, String what) {
        double err = maxAbsFromIdentity(a);
        assertTrue(err <= tol, what + ": max |. - I| = " + err + " > " + tol);
    }

    static void assertClose(NDArray a, NDArray b, double tol, String what) {
        double err = maxAbsDiff(a, b);
        assertTrue(err <= tol, what + ": max |a - b| = " + err + " > " + tol);
    }

    /** Random float64 params of {@code p} (drawn in float32 by the parameterization, then widened). */
    static NDArray random64(Parameterization p, NDManager m, long seed) {
        return p.randomParams(m, new Random(seed)).toType(DataType.FLOAT64, false);
    }

    /**
     * The autograd gradient of L(params) = sum(G * f(params)) for a fixed random G, in float64
     * (params must be float64), and the central finite-difference gradient; asserts their relative
     * error (2-norm) is at most 1e-4 and that the gradient is not trivially zero.
     */
    static void assertGradientMatchesFiniteDifferences(NDArray params, Function<NDArray, NDArray> f, long seed) {
        double[] auto = autogradOfLinearFunctional(params, f, seed);
        double[] fd = finiteDifferenceOfLinearFunctional(params, f, seed);
        double diff = 0;
        double ref = 0;
        for (int i = 0; i < fd.length; i++) {
            diff += (auto[i] - fd[i]) * (auto[i] - fd[i]);
            ref += fd[i] * fd[i];
        }
        double rel = Math.sqrt(diff) / Math.sqrt(ref);
        assertTrue(Math.sqrt(ref) > 1e-6, "finite-difference gradient is zero: the check would be vacuous");
        assertTrue(rel <= 1e-4, "autograd vs finite differences: relative error " + rel);
    }

    static NDArray weights(NDArray like, long seed) {
        Random rng = new Random(seed);
        double[] g = RandomParams.gaussian(rng, (int) like.getShape().size(), 1.0);
        return like.getManager().create(g, like.getShape());
    }

    /** DJL autograd gradient of sum(G * f(params)), G = {@link #weights}. */
    static double[] autogradOfLinearFunctional(NDArray params, Function<NDArray, NDArray> f, long seed) {
        NDArray p = params.duplicate();
        p.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray out = f.apply(p);
            NDArray loss = out.mul(weights(out, seed).toType(out.getDataType(), false)).sum();
            gc.backward(loss);
            return p.getGradient().toType(DataType.FLOAT64, false).toDoubleArray();
        }
    }

    static double[] finiteDifferenceOfLinearFunctional(NDArray params, Function<NDArray, NDArray> f, long seed) {
        NDManager m = params.getManager();
        Shape shape = params.getShape();
        double[] base = params.toType(DataType.FLOAT64, false).toDoubleArray();
        NDArray g = weights(f.apply(params), seed);
        double h = 1e-6;
        double[] grad = new double[base.length];
        for (int i = 0; i < base.length; i++) {
            double[] plus = base.clone();
            double[] minus = base.clone();
            plus[i] += h;
            minus[i] -= h;
            double lp = f.apply(m.create(plus, shape)).mul(g).sum().getDouble();
            double lm = f.apply(m.create(minus, shape)).mul(g).sum().getDouble();
            grad[i] = (lp - lm) / (2 * h);
        }
        return grad;
    }
}
