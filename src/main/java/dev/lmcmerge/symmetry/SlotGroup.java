package dev.lmcmerge.symmetry;

import dev.lmcmerge.config.LmcException;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The user-facing families of symmetry slots, as named on the command line
 * ({@code --slots residual,heads,qk,vo,ffn,scale}) and in job files. A run transforms with
 * the slots of the chosen groups and leaves every other slot at the identity.
 */
public enum SlotGroup {
    /** The global residual-stream rotation (restricted to fix the all-ones direction for LayerNorm models). */
    RESIDUAL,
    /** Per-layer permutation of attention heads (of KV groups and of query heads within a group for GQA). */
    HEADS,
    /** Per-layer, per-KV-group head-internal query/key maps (commuting with RoPE where there is RoPE). */
    QK,
    /** Per-layer, per-KV-group head-internal value/output maps. */
    VO,
    /** Per-layer permutation of FFN units. */
    FFN,
    /** The global residual scale (norm eps becomes c^2 eps) and, for gated MLPs only, per-unit FFN scales. */
    SCALE;

    /** Lower-case name as written on the command line. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Every group. */
    public static Set<SlotGroup> all() {
        return EnumSet.allOf(SlotGroup.class);
    }

    /**
     * Parses a comma-separated list such as {@code "residual,heads,qk"}.
     *
     * @param where the flag or configuration key the list comes from, for the error message
     * @throws LmcException USAGE naming the unknown entry and the accepted names
     */
    public static Set<SlotGroup> parse(String csv, String where) {
        EnumSet<SlotGroup> out = EnumSet.noneOf(SlotGroup.class);
        if (csv == null || csv.isBlank()) {
            throw LmcException.usage(where, "empty slot list; expected a comma-separated subset of " + names());
        }
        for (String part : csv.split(",")) {
            String p = part.trim().toLowerCase(Locale.ROOT);
            if (p.isEmpty()) {
                continue;
            }
            SlotGroup found = null;
            for (SlotGroup g : values()) {
                if (g.key().equals(p)) {
                    found = g;
                }
            }
            if (found == null) {
                throw LmcException.usage(where, "unknown slot \"" + part.trim() + "\"; expected a comma-separated subset of "
                        + names());
            }
            out.add(found);
        }
        if (out.isEmpty()) {
            throw LmcException.usage(where, "empty slot list; expected a comma-separated subset of " + names());
        }
        return out;
    }

    private static String names() {
        StringBuilder sb = new StringBuilder();
        for (SlotGroup g : values()) {
            sb.append(sb.length() == 0 ? "" : ",").append(g.key());
        }
        return sb.toString();
    }
}
