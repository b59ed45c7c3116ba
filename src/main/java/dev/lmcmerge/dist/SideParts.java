package dev.lmcmerge.dist;

import ai.djl.ndarray.NDManager;
import dev.lmcmerge.model.PartwiseForward;
import dev.lmcmerge.model.TokenRows;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.Transform;
import dev.lmcmerge.symmetry.TransformEngine;
import dev.lmcmerge.symmetry.TransformSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One side of a method made part by part: a cached base form (a view, kept open by the caller)
 * under a chain of transforms that is applied to just the tensors asked for, so the transformed
 * model is never whole in memory.
 */
final class SideParts implements PartwiseForward.PartSource {
    private final TransformSpec spec;
    private final Weights base;
    private final List<Transform> chain;

    SideParts(TransformSpec spec, Weights base, List<Transform> chain) {
        this.spec = spec;
        this.base = base;
        this.chain = List.copyOf(chain);
    }

    /** {@code chain}'s parameter maps as transforms of {@code info}'s spec, in {@code m}. */
    static List<Transform> transforms(JobContext ctx, ExecutorModels.Info info, List<Map<String, FloatTensor>> chain,
                                      NDManager m) {
        List<Transform> out = new ArrayList<>();
        for (Map<String, FloatTensor> params : chain) {
            out.add(ExecutorModels.transform(ctx, info, params, m));
        }
        return out;
    }

    /** The tensors {@code names} under the chain; new arrays live in {@code scope}. */
    @Override
    public Weights part(List<String> names, NDManager scope) {
        return part(names, null, scope, null);
    }

    /**
     * As {@link #part(List, NDManager)}, the token embedding {@code table} made for just
     * {@code rows} (the transforms act on each of its rows alone).
     */
    @Override
    public Weights part(List<String> names, TokenRows rows, NDManager scope, String table) {
        Weights w = new Weights(scope, base.source());
        for (String n : names) {
            w.put(n, rows != null && n.equals(table) ? rows.select(base.get(n)) : base.get(n));
        }
        for (Transform t : chain) {
            w = TransformEngine.apply(spec, t, w, names);
        }
        return w;
    }

    /** The base form (the chain not applied). */
    Weights base() {
        return base;
    }
}
