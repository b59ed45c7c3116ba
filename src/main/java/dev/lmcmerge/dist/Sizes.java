package dev.lmcmerge.dist;

import java.util.Locale;

/** Human-readable byte sizes for logs and messages. */
final class Sizes {
    private Sizes() {}

    /** {@code 1536} -> {@code 1.5 KiB}. */
    static String bytes(long n) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? n + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
