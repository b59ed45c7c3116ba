package dev.lmcmerge.dist;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The two ends of one method's straight line, as plain parameters. Naive interpolation uses the
 * models as stored; every other method uses each model's canonical form transformed by a chain
 * of transforms, applied in order (e.g. weight matching, then the learned transform on top of
 * it); an empty chain is the canonical form itself.
 *
 * @param method the method's configuration name
 * @param naive  true: the stored weights, no canonical form, no transforms
 * @param chainA model A's transforms (slot name -> parameters), applied first to last
 * @param chainB model B's transforms
 */
public record Endpoints(String method, boolean naive, List<Map<String, FloatTensor>> chainA,
                        List<Map<String, FloatTensor>> chainB) implements Serializable {

    public Endpoints {
        chainA = copy(chainA);
        chainB = copy(chainB);
    }

    /** The stored models, interpolated as they are. */
    public static Endpoints stored() {
        return new Endpoints("naive", true, List.of(), List.of());
    }

    /** Model A canonical, model B canonical under one transform. */
    public static Endpoints matched(String method, Map<String, FloatTensor> b) {
        return new Endpoints(method, false, List.of(), List.of(b));
    }

    /** The chain of side {@code a} or {@code b}. */
    public List<Map<String, FloatTensor>> chain(String side) {
        return side.equals("a") ? chainA : chainB;
    }

    /** The last (the method's own) transform of a side; empty when the side is untransformed. */
    public Map<String, FloatTensor> own(String side) {
        List<Map<String, FloatTensor>> c = chain(side);
        return c.isEmpty() ? Map.of() : c.get(c.size() - 1);
    }

    private static List<Map<String, FloatTensor>> copy(List<Map<String, FloatTensor>> chain) {
        List<Map<String, FloatTensor>> out = new ArrayList<>();
        for (Map<String, FloatTensor> m : chain) {
            if (!m.isEmpty()) {
                out.add(new java.util.LinkedHashMap<>(m));
            }
        }
        return List.copyOf(out);
    }
}
