package dev.lmcmerge.dist;

import ai.djl.ndarray.NDManager;
import dev.lmcmerge.align.EpsScaledArchitectures;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.Interpolation;
import java.util.ArrayList;
import java.util.List;

/**
 * The endpoint weights of a method inside one task, from the executor cache: leases of both
 * sides' forms, their views in the task's manager, the norm eps factor of each side, and the
 * interpolated model at any alpha.
 */
final class PathModels implements AutoCloseable {
    private final List<ExecutorModelCache.Lease> leases = new ArrayList<>();
    private final ExecutorModels.Info info;
    private final EpsScaledArchitectures archs;
    final Weights a;
    final Weights b;
    final double epsA;
    final double epsB;

    PathModels(JobContext ctx, Endpoints ends, NDManager m) {
        this.info = ExecutorModels.info(ctx, "a");
        this.archs = new EpsScaledArchitectures(info.architecture());
        this.a = side(ctx, ends, "a", m);
        this.b = side(ctx, ends, "b", m);
        this.epsA = epsScale(ctx, ends, "a", m);
        this.epsB = epsScale(ctx, ends, "b", m);
    }

    private Weights side(JobContext ctx, Endpoints ends, String side, NDManager m) {
        ExecutorModelCache.Lease l = ends.naive() ? ExecutorModels.original(ctx, side, m)
                : ExecutorModels.form(ctx, side, ends.chain(side), m);
        leases.add(l);
        return l.view(m);
    }

    private double epsScale(JobContext ctx, Endpoints ends, String side, NDManager m) {
        return ends.naive() ? 1.0 : ExecutorModels.epsScale(ctx, side, ends.chain(side), m);
    }

    /** The model config's architecture with the norm eps of the path at {@code alpha}. */
    Architecture architectureAt(double alpha) {
        return epsA == 1 && epsB == 1 ? info.architecture() : archs.forFactor(Interpolation.epsScale(epsA, epsB, alpha));
    }

    /** The base architecture. */
    Architecture architecture() {
        return info.architecture();
    }

    /** (1 - alpha) A + alpha B, in a sub-manager of A's manager. */
    Weights at(double alpha) {
        return Interpolation.lerp(a, b, alpha);
    }

    ExecutorModels.Info info() {
        return info;
    }

    @Override
    public void close() {
        for (ExecutorModelCache.Lease l : leases) {
            l.close();
        }
    }
}
