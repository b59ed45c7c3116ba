package dev.lmcmerge.dist;

import dev.lmcmerge.symmetry.Transform;
import dev.lmcmerge.symmetry.TransformEntry;
import java.util.LinkedHashMap;
import java.util.Map;

/** Conversions between symmetry {@link Transform}s and plain parameter maps (slot name -> tensor). */
public final class TransformParams {
    private TransformParams() {}

    /** Every active slot's parameters of {@code t}, copied to plain arrays. */
    public static Map<String, FloatTensor> of(Transform t) {
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        for (TransformEntry e : t.entries()) {
            out.put(e.slot(), new FloatTensor(e.shape(), e.values()));
        }
        return out;
    }

    /** A deep copy. */
    public static Map<String, FloatTensor> copy(Map<String, FloatTensor> params) {
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        params.forEach((k, v) -> out.put(k, v.copy()));
        return out;
    }
}
