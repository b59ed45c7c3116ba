package dev.lmcmerge.align;

import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.Interpolation;
import java.util.ArrayList;
import java.util.List;

/**
 * The two ends of a merge path after an alignment method: weights of A and B (original weights
 * for the naive method, transformed canonical weights otherwise), the norm-eps factors their
 * residual scales require, and what to free when done. W(alpha) = (1 - alpha) a + alpha b.
 */
public final class Endpoints implements AutoCloseable {
    private final String method;
    private final Weights a;
    private final Weights b;
    private final double epsScaleA;
    private final double epsScaleB;
    private final EpsScaledArchitectures archs;
    private final List<AutoCloseable> owned = new ArrayList<>();

    Endpoints(String method, Architecture arch, Weights a, Weights b, double epsScaleA, double epsScaleB) {
        this.method = method;
        this.archs = new EpsScaledArchitectures(arch);
        this.a = a;
        this.b = b;
        this.epsScaleA = epsScaleA;
        this.epsScaleB = epsScaleB;
    }

    /** Frees {@code c} when these endpoints are closed (in reverse order of registration). */
    Endpoints own(AutoCloseable c) {
        owned.add(c);
        return this;
    }

    public String method() {
        return method;
    }

    public Weights a() {
        return a;
    }

    public Weights b() {
        return b;
    }

    public double epsScaleA() {
        return epsScaleA;
    }

    public double epsScaleB() {
        return epsScaleB;
    }

    /** The base architecture (eps factor 1). */
    public Architecture architecture() {
        return archs.base();
    }

    /** The architecture at alpha (norm eps scaled by the interpolated residual scale, when there is one). */
    public Architecture architectureAt(double alpha) {
        return archs.forFactor(epsScaleA == 1 && epsScaleB == 1 ? 1 : Interpolation.epsScale(epsScaleA, epsScaleB, alpha));
    }

    /** The interpolated weights at alpha; the result's manager is a child of {@code a}'s, close it when done. */
    public Weights at(double alpha) {
        return Interpolation.lerp(a, b, alpha);
    }

    @Override
    public void close() {
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                throw new IllegalStateException("cannot free endpoint resources of " + method, e);
            }
        }
        owned.clear();
    }
}
