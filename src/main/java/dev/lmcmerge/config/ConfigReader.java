package dev.lmcmerge.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Typed, range-checked reads of a resolved configuration. Every failure is an
 * {@link LmcException} with exit code 2 that names the full key, what was expected, what was
 * found and where it was set (file and line, or the command-line override).
 *
 * <p>Values set on the command line arrive as strings ({@code steps=50}); numbers, booleans and
 * lists ({@code methods=naive,dual}) are read from strings here, so one rule serves job files
 * and overrides.
 */
final class ConfigReader {
    private final Config config;

    ConfigReader(Config config) {
        this.config = config;
    }

    /** A string, or empty when the key is null. */
    Optional<String> optionalString(String key) {
        if (isNull(key)) {
            return Optional.empty();
        }
        ConfigValue v = value(key);
        if (v.valueType() == ConfigValueType.LIST || v.valueType() == ConfigValueType.OBJECT) {
            throw wrongType(key, v, "a string");
        }
        String s = String.valueOf(v.unwrapped());
        if (s.isBlank()) {
            throw wrongType(key, v, "a non-empty string");
        }
        return Optional.of(s);
    }

    /** An integer in [min, max]; a number with a fraction is refused rather than truncated. */
    int intIn(String key, int min, int max) {
        return (int) longIn(key, min, max);
    }

    /** A 64-bit integer in [min, max]. */
    long longIn(String key, long min, long max) {
        ConfigValue v = value(key);
        long l = parseLong(key, v);
        if (l < min || l > max) {
            throw outOfRange(key, v, "an integer " + min + " .. " + max);
        }
        return l;
    }

    /** {@code auto} (empty) or an integer in [min, max]. */
    OptionalInt autoOrInt(String key, int min, int max) {
        if (isAuto(key)) {
            return OptionalInt.empty();
        }
        ConfigValue v = value(key);
        long l;
        try {
            l = parseLong(key, v);
        } catch (LmcException e) {
            throw wrongType(key, v, "auto or an integer " + min + " .. " + max);
        }
        if (l < min || l > max) {
            throw outOfRange(key, v, "auto or an integer " + min + " .. " + max);
        }
        return OptionalInt.of((int) l);
    }

    /** A finite number in the given range; {@code range} says it in words for the message. */
    double doubleIn(String key, double min, boolean minIncluded, double max, boolean maxIncluded) {
        ConfigValue v = value(key);
        double d = parseDouble(key, v, "a number");
        String range = rangeText(min, minIncluded, max, maxIncluded);
        if (!inRange(d, min, minIncluded, max, maxIncluded)) {
            throw outOfRange(key, v, range);
        }
        return d;
    }

    /** A size in bytes ({@code 5GB}, {@code 512MiB}, {@code 1000}) of at least {@code min}. */
    long bytesAtLeast(String key, long min) {
        ConfigValue v = value(key);
        long b;
        try {
            b = config.getBytes(key);
        } catch (ConfigException.BadValue | ConfigException.WrongType e) {
            throw wrongType(key, v, "a size such as 500MB, 5GB or 1073741824");
        }
        if (b < min) {
            throw outOfRange(key, v, "a size of at least " + min + " bytes");
        }
        return b;
    }

    /** {@code auto} (empty) or a size in bytes of at least {@code min}. */
    OptionalLong autoOrBytes(String key, long min) {
        if (isAuto(key)) {
            return OptionalLong.empty();
        }
        ConfigValue v = value(key);
        long b;
        try {
            b = config.getBytes(key);
        } catch (ConfigException.BadValue | ConfigException.WrongType e) {
            throw wrongType(key, v, "auto or a size such as 8GB");
        }
        if (b < min) {
            throw outOfRange(key, v, "auto or a size of at least " + min + " bytes");
        }
        return OptionalLong.of(b);
    }

    /** One of the constants of {@code type}, written in lower case with '-' for '_'. */
    <E extends Enum<E>> E enumValue(String key, Class<E> type) {
        ConfigValue v = value(key);
        if (v.valueType() != ConfigValueType.STRING) {
            throw wrongType(key, v, "one of " + String.join(", ", names(type)));
        }
        return parseEnum(key, type, (String) v.unwrapped(), v);
    }

    /**
     * A list of constants of {@code type}: a HOCON list, or a comma-separated string from the
     * command line. Duplicates are refused (a method listed twice is a mistake, not a wish).
     */
    <E extends Enum<E>> List<E> enumList(String key, Class<E> type, boolean allowEmpty) {
        ConfigValue v = value(key);
        List<E> out = new ArrayList<>();
        List<String> items = stringItems(key, v, "a list of " + String.join(", ", names(type)));
        for (int i = 0; i < items.size(); i++) {
            E e = parseEnum(key + "[" + i + "]", type, items.get(i), v);
            if (out.contains(e)) {
                throw LmcException.usage(key, name(e) + " is listed twice" + from(v));
            }
            out.add(e);
        }
        if (out.isEmpty() && !allowEmpty) {
            throw outOfRange(key, v, "a non-empty list of " + String.join(", ", names(type)));
        }
        return List.copyOf(out);
    }

    /** A list of numbers, each in the given range, no duplicates. */
    List<Double> doubleList(String key, double min, boolean minIncluded, double max, boolean maxIncluded) {
        ConfigValue v = value(key);
        String range = rangeText(min, minIncluded, max, maxIncluded);
        List<String> items = stringItems(key, v, "a list of numbers, each " + range);
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            String item = items.get(i);
            double d;
            try {
                d = Double.parseDouble(item.trim());
            } catch (NumberFormatException e) {
                throw LmcException.usage(key + "[" + i + "]",
                        "expected a number " + range + ", got \"" + item + "\"" + from(v));
            }
            if (!Double.isFinite(d) || !inRange(d, min, minIncluded, max, maxIncluded)) {
                throw LmcException.usage(key + "[" + i + "]",
                        "out of range: expected a number " + range + ", got " + item + from(v));
            }
            if (out.contains(d)) {
                throw LmcException.usage(key, item + " is listed twice" + from(v));
            }
            out.add(d);
        }
        return List.copyOf(out);
    }

    /** The config name of an enum constant: lower case, '-' for '_'. */
    static String name(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Where {@code v} was set, as " (FILE: LINE)" for the end of a message; empty for defaults. */
    static String from(ConfigValue v) {
        String d = v.origin().description();
        return d.contains("reference.conf") ? " (default)" : " (" + d + ")";
    }

    boolean isNull(String key) {
        return !config.hasPath(key);
    }

    private boolean isAuto(String key) {
        ConfigValue v = value(key);
        return v.valueType() == ConfigValueType.STRING
                && "auto".equalsIgnoreCase(((String) v.unwrapped()).trim());
    }

    private ConfigValue value(String key) {
        if (!config.hasPath(key)) {
            throw LmcException.usage(key, "required but not set");
        }
        return config.getValue(key);
    }

    private long parseLong(String key, ConfigValue v) {
        if (v.valueType() == ConfigValueType.NUMBER) {
            Number n = (Number) v.unwrapped();
            if (n instanceof Double || n instanceof Float) {
                double d = n.doubleValue();
                if (d != Math.rint(d) || Math.abs(d) > 9.0e15) {
                    throw wrongType(key, v, "an integer");
                }
                return (long) d;
            }
            return n.longValue();
        }
        if (v.valueType() == ConfigValueType.STRING) {
            try {
                return Long.parseLong(((String) v.unwrapped()).trim());
            } catch (NumberFormatException e) {
                throw wrongType(key, v, "an integer");
            }
        }
        throw wrongType(key, v, "an integer");
    }

    private double parseDouble(String key, ConfigValue v, String expected) {
        double d;
        if (v.valueType() == ConfigValueType.NUMBER) {
            d = ((Number) v.unwrapped()).doubleValue();
        } else if (v.valueType() == ConfigValueType.STRING) {
            try {
                d = Double.parseDouble(((String) v.unwrapped()).trim());
            } catch (NumberFormatException e) {
                throw wrongType(key, v, expected);
            }
        } else {
            throw wrongType(key, v, expected);
        }
        if (!Double.isFinite(d)) {
            throw wrongType(key, v, "a finite number");
        }
        return d;
    }

    private static List<String> stringItems(String key, ConfigValue v, String expected) {
        if (v.valueType() == ConfigValueType.LIST) {
            List<String> items = new ArrayList<>();
            for (ConfigValue item : (ConfigList) v) {
                if (item.valueType() != ConfigValueType.STRING && item.valueType() != ConfigValueType.NUMBER) {
                    throw wrongType(key, v, expected);
                }
                items.add(String.valueOf(item.unwrapped()));
            }
            return items;
        }
        if (v.valueType() == ConfigValueType.STRING) {
            String s = ((String) v.unwrapped()).trim();
            if (s.isEmpty()) {
                return List.of();
            }
            return Arrays.stream(s.split(",")).map(String::trim).collect(Collectors.toList());
        }
        if (v.valueType() == ConfigValueType.NUMBER) {
            return List.of(String.valueOf(v.unwrapped()));
        }
        throw wrongType(key, v, expected);
    }

    private static <E extends Enum<E>> E parseEnum(String key, Class<E> type, String text, ConfigValue v) {
        String t = text.trim();
        for (E e : type.getEnumConstants()) {
            if (name(e).equalsIgnoreCase(t)) {
                return e;
            }
        }
        List<String> names = names(type);
        String hint = Suggestions.closest(t, names).map(s -> "; did you mean " + s + "?").orElse("");
        throw LmcException.usage(key, "expected one of " + String.join(", ", names)
                + ", got \"" + t + "\"" + from(v) + hint);
    }

    private static <E extends Enum<E>> List<String> names(Class<E> type) {
        Set<String> out = new LinkedHashSet<>();
        for (E e : type.getEnumConstants()) {
            out.add(name(e));
        }
        return List.copyOf(out);
    }

    private static boolean inRange(double d, double min, boolean minIncluded, double max, boolean maxIncluded) {
        return (minIncluded ? d >= min : d > min) && (maxIncluded ? d <= max : d < max);
    }

    private static String rangeText(double min, boolean minIncluded, double max, boolean maxIncluded) {
        return (minIncluded ? ">= " : "> ") + fmt(min) + " and " + (maxIncluded ? "<= " : "< ") + fmt(max);
    }

    private static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    private static LmcException wrongType(String key, ConfigValue v, String expected) {
        return LmcException.usage(key, "expected " + expected + ", got " + shown(key, v) + from(v));
    }

    private static LmcException outOfRange(String key, ConfigValue v, String expected) {
        return LmcException.usage(key, "out of range: expected " + expected + ", got " + shown(key, v) + from(v));
    }

    /** The offending value as the user wrote it, unless the key holds a secret. */
    private static String shown(String key, ConfigValue v) {
        if (Secrets.isSecret(key)) {
            return "a " + v.valueType().name().toLowerCase(Locale.ROOT) + " (value hidden)";
        }
        return switch (v.valueType()) {
            case STRING -> "\"" + v.unwrapped() + "\"";
            case NUMBER, BOOLEAN -> String.valueOf(v.unwrapped());
            case LIST -> "a list";
            case OBJECT -> "a section";
            case NULL -> "null";
        };
    }
}
