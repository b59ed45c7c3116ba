package dev.lmcmerge.dist;

import ai.djl.ndarray.NDManager;
import dev.lmcmerge.align.EpsScaledArchitectures;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.ModelParts;
import dev.lmcmerge.model.PartwiseForward;
import dev.lmcmerge.model.TokenRows;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.Interpolation;
import java.util.ArrayList;
import java.util.List;

/**
 * The endpoints of a method inside one task, made part by part: each side's cached base form
 * (stored for {@code naive}, canonical otherwise) and its chain of transforms, applied to just
 * the tensors asked for. A transformed or interpolated model is never whole in memory, so an
 * executor needs only the two base forms in its cache (DESIGN.md section 4; docs/benchmarks.md,
 * "Memory").
 */
final class PathParts implements AutoCloseable {
    private final List<ExecutorModelCache.Lease> leases = new ArrayList<>();
    private final ExecutorModels.Info info;
    private final EpsScaledArchitectures archs;
    private final SideParts a;
    private final SideParts b;
    final double epsA;
    final double epsB;
    final ModelParts parts;

    PathParts(JobContext ctx, Endpoints ends, NDManager m) {
        this.info = ExecutorModels.info(ctx, "a");
        this.archs = new EpsScaledArchitectures(info.architecture());
        this.a = new SideParts(info.spec(), base(ctx, ends, "a", m), SideParts.transforms(ctx, info, ends.chain("a"), m));
        this.b = new SideParts(info.spec(), base(ctx, ends, "b", m), SideParts.transforms(ctx, info, ends.chain("b"), m));
        this.epsA = ends.naive() ? 1.0 : ExecutorModels.epsScale(ctx, "a", ends.chain("a"), m);
        this.epsB = ends.naive() ? 1.0 : ExecutorModels.epsScale(ctx, "b", ends.chain("b"), m);
        this.parts = ModelParts.of(info.architecture(), a.base()::has);
    }

    private Weights base(JobContext ctx, Endpoints ends, String side, NDManager m) {
        ExecutorModelCache.Lease l = ends.naive() ? ExecutorModels.original(ctx, side, m)
                : ExecutorModels.canonical(ctx, side, m);
        leases.add(l);
        return l.view(m);
    }

    /** (1 - alpha) A + alpha B for the tensors {@code names}, new arrays in {@code scope}. */
    Weights at(double alpha, List<String> names, NDManager scope) {
        return Interpolation.lerp(a.part(names, scope), b.part(names, scope), alpha);
    }

    /** The part source of the merged model at {@code alpha} for {@link PartwiseForward}. */
    PartwiseForward.PartSource sourceAt(double alpha) {
        return new PartwiseForward.PartSource() {
            @Override
            public Weights part(List<String> names, NDManager scope) {
                return at(alpha, names, scope);
            }

            @Override
            public Weights part(List<String> names, TokenRows rows, NDManager scope, String table) {
                return Interpolation.lerp(a.part(names, rows, scope, table), b.part(names, rows, scope, table), alpha);
            }
        };
    }

    /** The shape of tensor {@code name} (the same on both sides). */
    long[] shape(String name) {
        return a.base().get(name).getShape().getShape();
    }

    /** The model config's architecture with the norm eps of the path at {@code alpha}. */
    Architecture architectureAt(double alpha) {
        return epsA == 1 && epsB == 1 ? info.architecture() : archs.forFactor(Interpolation.epsScale(epsA, epsB, alpha));
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
