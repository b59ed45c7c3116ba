package dev.lmcmerge.bench;

import java.util.Locale;

/** One measured figure, printed as {@code bench NAME VALUE UNIT}. */
record Figure(String name, double value, String unit) {
    String line() {
        return String.format(Locale.ROOT, "bench %s %.4g %s", name, value, unit);
    }
}
