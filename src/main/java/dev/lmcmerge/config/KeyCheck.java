package dev.lmcmerge.config;

import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks that a merged configuration holds only keys that reference.conf knows: a mistyped key
 * would otherwise be silently ignored and the run would use the default. Each unknown key is
 * reported with where it was set and the closest known key.
 */
final class KeyCheck {
    /** Sections whose keys are free-form (Hadoop properties), with the prefix each key must have. */
    static final Map<String, String> FREE_FORM = Map.of("lmc.s3", "fs.s3a.");

    private KeyCheck() {}

    /** Every key path of reference.conf under lmc (sections and leaves), e.g. lmc.data.seq-len. */
    static List<String> knownKeys(ConfigObject referenceRoot) {
        List<String> out = new ArrayList<>();
        ConfigValue lmc = referenceRoot.get("lmc");
        if (lmc instanceof ConfigObject o) {
            out.add("lmc");
            collect("lmc", o, out);
        }
        return out;
    }

    private static void collect(String prefix, ConfigObject o, List<String> out) {
        for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
            String path = prefix + "." + e.getKey();
            out.add(path);
            if (e.getValue() instanceof ConfigObject child && !FREE_FORM.containsKey(path)) {
                collect(path, child, out);
            }
        }
    }

    /**
     * Throws one usage error listing every problem: unknown keys under lmc, sections replaced by
     * plain values, lmc keys written at the top level, free-form keys without their prefix.
     */
    static void check(ConfigObject mergedRoot, ConfigObject referenceRoot) {
        List<String> known = knownKeys(referenceRoot);
        List<String> problems = new ArrayList<>();
        ConfigObject refLmc = (ConfigObject) referenceRoot.get("lmc");
        // A top-level key that is a known lmc key was meant to be inside lmc { }.
        for (Map.Entry<String, ConfigValue> e : mergedRoot.entrySet()) {
            if (!e.getKey().equals("lmc") && refLmc.containsKey(e.getKey()) && !referenceRoot.containsKey(e.getKey())) {
                problems.add(e.getKey() + ": not inside lmc { } " + ConfigReader.from(e.getValue())
                        + "; did you mean lmc." + e.getKey() + "?");
            }
        }
        ConfigValue lmc = mergedRoot.get("lmc");
        if (lmc == null || lmc.valueType() != ConfigValueType.OBJECT) {
            problems.add("lmc: expected a section lmc { ... }" + (lmc == null ? "" : ConfigReader.from(lmc)));
        } else {
            walk("lmc", (ConfigObject) lmc, refLmc, known, problems);
        }
        if (!problems.isEmpty()) {
            throw new LmcException(ExitCode.USAGE, String.join("; ", problems));
        }
    }

    private static void walk(String prefix, ConfigObject merged, ConfigObject ref, List<String> known,
                             List<String> problems) {
        for (Map.Entry<String, ConfigValue> e : merged.entrySet()) {
            String path = prefix + "." + e.getKey();
            ConfigValue v = e.getValue();
            ConfigValue r = ref.get(e.getKey());
            if (r == null) {
                Optional<String> hint = Suggestions.closestKey(path, known);
                problems.add(path + ": unknown key" + ConfigReader.from(v)
                        + hint.map(h -> "; did you mean " + h + "?").orElse(""));
            } else if (r.valueType() == ConfigValueType.OBJECT) {
                if (v.valueType() != ConfigValueType.OBJECT) {
                    problems.add(path + ": expected a section " + e.getKey() + " { ... }, got a "
                            + v.valueType().name().toLowerCase() + ConfigReader.from(v));
                } else if (FREE_FORM.containsKey(path)) {
                    checkFreeForm(path, FREE_FORM.get(path), (ConfigObject) v, problems);
                } else {
                    walk(path, (ConfigObject) v, (ConfigObject) r, known, problems);
                }
            }
        }
    }

    private static void checkFreeForm(String section, String prefix, ConfigObject o, List<String> problems) {
        for (Map.Entry<String, ConfigValue> e : flatten(o).entrySet()) {
            String path = section + "." + e.getKey();
            ConfigValueType t = e.getValue().valueType();
            if (!e.getKey().startsWith(prefix)) {
                problems.add(path + ": only keys starting with " + prefix + " are allowed in " + section
                        + ConfigReader.from(e.getValue()));
            } else if (t == ConfigValueType.LIST || t == ConfigValueType.OBJECT) {
                problems.add(path + ": expected a string, number or boolean, got a " + t.name().toLowerCase()
                        + ConfigReader.from(e.getValue()));
            }
        }
    }

    /**
     * The leaves of a free-form section by their dotted names: {@code fs.s3a.endpoint} whether it
     * was written quoted (one key) or unquoted (nested objects fs, s3a, endpoint).
     */
    static Map<String, ConfigValue> flatten(ConfigObject o) {
        Map<String, ConfigValue> out = new LinkedHashMap<>();
        flatten("", o, out);
        return out;
    }

    private static void flatten(String prefix, ConfigObject o, Map<String, ConfigValue> out) {
        for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
            String name = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            if (e.getValue() instanceof ConfigObject child) {
                flatten(name, child, out);
            } else {
                out.put(name, e.getValue());
            }
        }
    }
}
