package dev.lmcmerge.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** The three layers of a job's configuration: reference.conf, the job file, the overrides. */
final class JobConfigSources {
    /** A job file is a few kilobytes; anything this large is the wrong file. */
    static final long MAX_JOB_FILE_BYTES = 4L << 20;

    private JobConfigSources() {}

    /** Every key with its default and comment, from the reference.conf on the classpath. */
    static Config reference() {
        return ConfigFactory.parseResources(JobConfigSources.class, "/reference.conf",
                ConfigParseOptions.defaults().setAllowMissing(false));
    }

    /**
     * The job file at {@code location}: a local path (relative or absolute, whatever
     * {@code fs.defaultFS} says) or a Hadoop URI such as {@code hdfs:///jobs/a.conf}.
     */
    static Config jobFile(String location, Supplier<Configuration> hadoopConf) {
        String text = hasScheme(location) ? readHadoop(location, hadoopConf.get()) : readLocal(location);
        try {
            return ConfigFactory.parseString(text, ConfigParseOptions.defaults()
                    .setSyntax(ConfigSyntax.CONF).setOriginDescription(location));
        } catch (ConfigException e) {
            // Typesafe's message already starts with "FILE: LINE:".
            throw new LmcException(ExitCode.USAGE, "job file " + e.getMessage(), e);
        }
    }

    /**
     * {@code key=value} overrides, later ones winning. Keys may leave out {@code lmc.}; values
     * starting with [, { or a quote are HOCON, {@code null} is null, anything else is taken
     * literally (so {@code hdfs:///x} is not cut at a HOCON comment {@code //}) and given the type
     * of the key's default in {@code reference}: a number, a boolean, or a comma-separated list.
     * A literal that does not fit stays a string, for the typed reader to report.
     */
    static Config overrides(List<String> overrides, Config reference) {
        Config out = ConfigFactory.empty();
        for (String o : overrides) {
            int eq = o.indexOf('=');
            if (eq <= 0) {
                throw LmcException.usage(o, "expected an override key=value, such as align.steps=50");
            }
            String key = o.substring(0, eq).trim();
            String path = key.equals("lmc") || key.startsWith("lmc.") ? key : "lmc." + key;
            try {
                ConfigUtil.splitPath(path);
            } catch (ConfigException e) {
                throw LmcException.usage(key, "not a valid key in the override " + key + "=...: " + e.getMessage());
            }
            // The value itself is not in the origin: it may be a secret.
            String origin = "command-line override of " + key;
            ConfigValue value = overrideValue(o.substring(eq + 1), origin, key, defaultOf(reference, path));
            out = ConfigFactory.empty().withValue(path, value).withFallback(out);
        }
        return out;
    }

    private static ConfigValue defaultOf(Config reference, String path) {
        try {
            return reference.hasPath(path) ? reference.getValue(path) : null;
        } catch (ConfigException e) {
            return null;
        }
    }

    private static ConfigValue overrideValue(String raw, String origin, String key, ConfigValue dflt) {
        String v = raw.trim();
        if (v.equals("null")) {
            return ConfigValueFactory.fromAnyRef(null, origin);
        }
        if (v.startsWith("[") || v.startsWith("{") || v.startsWith("\"")) {
            try {
                return ConfigFactory.parseString("v = " + v, ConfigParseOptions.defaults()
                        .setOriginDescription(origin)).resolve().getValue("v");
            } catch (ConfigException e) {
                throw LmcException.usage(key, "the value of the override is not valid HOCON: " + e.getMessage());
            }
        }
        return ConfigValueFactory.fromAnyRef(typed(v, dflt), origin);
    }

    /** {@code text} as the type of {@code dflt} (null: no default, keep the string). */
    private static Object typed(String text, ConfigValue dflt) {
        if (dflt == null) {
            return text;
        }
        switch (dflt.valueType()) {
            case NUMBER:
                return number(text);
            case BOOLEAN:
                return text.equalsIgnoreCase("true") ? Boolean.TRUE
                        : text.equalsIgnoreCase("false") ? Boolean.FALSE : text;
            case LIST:
                if (text.isEmpty()) {
                    return List.of();
                }
                ConfigList list = (ConfigList) dflt;
                boolean numbers = !list.isEmpty() && list.get(0).valueType() == ConfigValueType.NUMBER;
                List<Object> items = new ArrayList<>();
                for (String item : text.split(",")) {
                    items.add(numbers ? number(item.trim()) : item.trim());
                }
                return items;
            default:
                return text;
        }
    }

    private static Object number(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            try {
                double d = Double.parseDouble(text);
                return Double.isFinite(d) ? (Object) d : text;
            } catch (NumberFormatException e2) {
                return text;
            }
        }
    }

    /** True for {@code hdfs://...}, {@code file:/...}, {@code s3a://...}; false for local paths. */
    static boolean hasScheme(String location) {
        try {
            String s = new URI(location).getScheme();
            // One letter is a Windows drive, not a scheme.
            return s != null && s.length() > 1;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static String readLocal(String location) {
        java.nio.file.Path p = java.nio.file.Path.of(location);
        try {
            if (Files.isDirectory(p)) {
                throw LmcException.usage(location, "is a folder; expected a job file (HOCON, e.g. conf/demo.conf)");
            }
            if (Files.size(p) > MAX_JOB_FILE_BYTES) {
                throw LmcException.usage(location, "is larger than " + MAX_JOB_FILE_BYTES
                        + " bytes; expected a job file (HOCON, a few kilobytes)");
            }
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw LmcException.usage(location, "job file not found");
        } catch (IOException e) {
            throw new LmcException(ExitCode.USAGE, location + ": cannot read the job file: " + e, e);
        }
    }

    private static String readHadoop(String location, Configuration conf) {
        Path path = new Path(location);
        try {
            FileSystem fs = path.getFileSystem(conf);
            FileStatus st;
            try {
                st = fs.getFileStatus(path);
            } catch (java.io.FileNotFoundException e) {
                throw LmcException.usage(location, "job file not found");
            }
            if (st.isDirectory()) {
                throw LmcException.usage(location, "is a folder; expected a job file (HOCON)");
            }
            if (st.getLen() > MAX_JOB_FILE_BYTES) {
                throw LmcException.usage(location, "is larger than " + MAX_JOB_FILE_BYTES
                        + " bytes; expected a job file (HOCON, a few kilobytes)");
            }
            try (InputStream in = fs.open(path)) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new LmcException(ExitCode.USAGE, location + ": cannot read the job file: " + e, e);
        }
    }
}
