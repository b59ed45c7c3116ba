package dev.lmcmerge.config;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;
import org.apache.commons.text.similarity.LevenshteinDistance;

/** "Did you mean" for mistyped keys and enum values, by edit distance. */
final class Suggestions {
    private static final LevenshteinDistance DISTANCE = LevenshteinDistance.getDefaultInstance();

    private Suggestions() {}

    /**
     * The candidate closest to {@code typed}, if it is close enough to be a plausible typo: at
     * most max(2, a third of the typed length) edits away.
     */
    static Optional<String> closest(String typed, Collection<String> candidates) {
        String t = typed.toLowerCase(Locale.ROOT);
        String best = null;
        int bestScore = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = DISTANCE.apply(t, c.toLowerCase(Locale.ROOT));
            if (d < bestScore) {
                bestScore = d;
                best = c;
            }
        }
        return best != null && bestScore <= threshold(t) ? Optional.of(best) : Optional.empty();
    }

    /**
     * The known key closest to an unknown dotted key. Compares whole keys (a typo in any part)
     * and, at one extra edit, the last parts only (a right name in the wrong section:
     * {@code lmc.seq-len} for {@code lmc.data.seq-len}).
     */
    static Optional<String> closestKey(String typed, Collection<String> knownKeys) {
        String t = typed.toLowerCase(Locale.ROOT);
        String tLast = lastPart(t);
        String best = null;
        int bestScore = Integer.MAX_VALUE;
        for (String k : knownKeys) {
            String kl = k.toLowerCase(Locale.ROOT);
            int whole = DISTANCE.apply(t, kl);
            int last = DISTANCE.apply(tLast, lastPart(kl)) + 1;
            int score = Math.min(whole, last);
            if (score < bestScore) {
                bestScore = score;
                best = k;
            }
        }
        return best != null && bestScore <= threshold(tLast) ? Optional.of(best) : Optional.empty();
    }

    private static int threshold(String s) {
        return Math.max(2, s.length() / 3);
    }

    private static String lastPart(String key) {
        int dot = key.lastIndexOf('.');
        return dot < 0 ? key : key.substring(dot + 1);
    }
}
