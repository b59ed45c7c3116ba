package dev.lmcmerge.dist;

import dev.lmcmerge.config.AlignConfig.Method;
import java.util.Locale;

/** Methods as named in configuration files and outputs: {@code weight-matching}, {@code one-sided}, ... */
public final class MethodNames {
    private MethodNames() {}

    /** The configuration name of {@code m}. */
    public static String of(Method m) {
        return m.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
