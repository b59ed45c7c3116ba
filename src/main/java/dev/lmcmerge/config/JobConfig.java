package dev.lmcmerge.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;

/**
 * The validated configuration of one job: {@code reference.conf} (every key, with defaults) &lt;-
 * the job file &lt;- {@code key=value} overrides, read into one record per section.
 *
 * <p>Loading fails with exit code 2 ({@link ExitCode#USAGE}) on an unknown key under
 * {@code lmc} (naming the closest known key and where it was set), a value of the wrong type, a
 * value out of range, or an enum value not in the allowed list. Secret values (see
 * {@link Secrets}) are never part of any message or rendering: {@link #toString()},
 * {@link #renderRedacted()} and {@link #redactedJson()} mask them.
 */
public final class JobConfig {
    private final Config resolved;
    private final String source;
    private final Optional<String> modelA;
    private final Optional<String> modelB;
    private final DataConfig data;
    private final AlignConfig align;
    private final EvalConfig eval;
    private final OutputConfig output;
    private final ComputeConfig compute;
    private final CheckConfig check;
    private final Map<String, String> s3;

    private JobConfig(Config resolved, String source) {
        this.resolved = resolved;
        this.source = source;
        ConfigReader r = new ConfigReader(resolved);
        this.modelA = r.optionalString("lmc.model-a");
        this.modelB = r.optionalString("lmc.model-b");
        this.data = DataConfig.read(r);
        this.align = AlignConfig.read(r);
        this.eval = EvalConfig.read(r);
        this.output = OutputConfig.read(r);
        this.compute = ComputeConfig.read(r);
        this.check = CheckConfig.read(r);
        this.s3 = readS3(resolved);
    }

    /** The defaults of reference.conf alone. */
    public static JobConfig defaults() {
        return load(Optional.empty(), List.of());
    }

    /**
     * Loads and validates a job's configuration. A job file with a scheme ({@code hdfs://},
     * {@code s3a://}) is read through Hadoop with a default {@link Configuration}.
     *
     * @param jobFile a local path or Hadoop URI of a HOCON job file; empty for defaults plus overrides
     * @param overrides {@code key=value} items, later ones winning; keys may leave out {@code lmc.}
     * @throws LmcException USAGE for a missing or unparsable job file and every invalid key or value
     */
    public static JobConfig load(Optional<String> jobFile, List<String> overrides) {
        return load(jobFile, overrides, null);
    }

    /** As {@link #load(Optional, List)}, reading a Hadoop job file with {@code hadoopConf} (null: a default one). */
    public static JobConfig load(Optional<String> jobFile, List<String> overrides, Configuration hadoopConf) {
        Config reference = JobConfigSources.reference();
        Config job = jobFile.map(f -> JobConfigSources.jobFile(f,
                () -> hadoopConf != null ? hadoopConf : new Configuration())).orElse(ConfigFactory.empty());
        Config user = JobConfigSources.overrides(overrides, reference).withFallback(job);
        Config merged;
        try {
            merged = user.withFallback(reference).resolve();
        } catch (ConfigException e) {
            throw new LmcException(ExitCode.USAGE, "configuration: " + e.getMessage(), e);
        }
        KeyCheck.check(merged.root(), reference.root());
        return new JobConfig(merged, jobFile.orElse("defaults"));
    }

    /** Model A's location, or empty when not set. */
    public Optional<String> modelA() {
        return modelA;
    }

    /** Model B's location, or empty when not set. */
    public Optional<String> modelB() {
        return modelB;
    }

    /** {@code lmc.data}. */
    public DataConfig data() {
        return data;
    }

    /** {@code lmc.align}. */
    public AlignConfig align() {
        return align;
    }

    /** {@code lmc.eval}. */
    public EvalConfig eval() {
        return eval;
    }

    /** {@code lmc.output}. */
    public OutputConfig output() {
        return output;
    }

    /** {@code lmc.compute}. */
    public ComputeConfig compute() {
        return compute;
    }

    /** {@code lmc.check}. */
    public CheckConfig check() {
        return check;
    }

    /** The job file this came from, or "defaults". */
    public String source() {
        return source;
    }

    /**
     * The value of an optional key that a command requires, e.g. {@code require(modelA(), "lmc.model-a")}.
     *
     * @throws LmcException USAGE naming the key when it is not set
     */
    public static String require(Optional<String> value, String key) {
        return value.orElseThrow(() -> LmcException.usage(key, "required but not set; set it in the job file"
                + " or on the command line as " + key.substring("lmc.".length()) + "=..."));
    }

    /**
     * Hadoop properties for every file system the job opens (the {@code lmc.s3} passthrough,
     * {@code fs.s3a.*}). Holds secrets: never print it.
     */
    public Map<String, String> hadoopProperties() {
        return s3;
    }

    /** Sets {@link #hadoopProperties()} on {@code conf} and returns it. */
    public Configuration applyTo(Configuration conf) {
        s3.forEach(conf::set);
        return conf;
    }

    /**
     * The resolved configuration (the whole tree, lmc and anything else the job file holds).
     * Holds secrets: for display use {@link #renderRedacted()}.
     */
    public Config raw() {
        return resolved;
    }

    /** The {@code lmc} section as one JSON object, secrets replaced by {@value Secrets#MASK}: for run.json. */
    public String redactedJson() {
        return redactedLmc().render(ConfigRenderOptions.concise());
    }

    /** The {@code lmc} section as readable HOCON, secrets replaced by {@value Secrets#MASK}: for logs. */
    public String renderRedacted() {
        return ConfigFactory.empty().withValue("lmc", redactedLmc()).root().render(ConfigRenderOptions.defaults()
                .setOriginComments(false).setComments(false).setJson(false).setFormatted(true));
    }

    /** The redacted rendering: a JobConfig never prints a secret, even by accident. */
    @Override
    public String toString() {
        return renderRedacted();
    }

    /**
     * The lmc section with secrets masked, and lmc.s3 written flat by its Hadoop names
     * ({@code "fs.s3a.endpoint"}) however the job file nested them.
     */
    private ConfigObject redactedLmc() {
        Map<String, Object> s3Shown = new LinkedHashMap<>();
        s3.forEach((k, v) -> s3Shown.put(k, Secrets.isSecret(k) ? Secrets.MASK : v));
        Config masked = resolved.withValue("lmc.s3", ConfigValueFactory.fromMap(s3Shown));
        for (List<String> path : leafPaths(resolved.getObject("lmc"), new ArrayList<>(List.of("lmc")))) {
            String expr = ConfigUtil.joinPath(path);
            boolean inS3 = path.size() > 1 && path.get(1).equals("s3");
            if (!inS3 && Secrets.isSecret(String.join(".", path)) && resolved.hasPath(expr)) {
                masked = masked.withValue(expr, ConfigValueFactory.fromAnyRef(Secrets.MASK));
            }
        }
        return masked.getObject("lmc");
    }

    private static List<List<String>> leafPaths(ConfigObject o, List<String> prefix) {
        List<List<String>> out = new ArrayList<>();
        for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
            List<String> path = new ArrayList<>(prefix);
            path.add(e.getKey());
            if (e.getValue() instanceof ConfigObject child) {
                out.addAll(leafPaths(child, path));
            } else {
                out.add(path);
            }
        }
        return out;
    }

    private static Map<String, String> readS3(Config resolved) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigValue> e : KeyCheck.flatten(resolved.getObject("lmc.s3")).entrySet()) {
            if (e.getValue().valueType() != ConfigValueType.NULL) {
                out.put(e.getKey(), String.valueOf(e.getValue().unwrapped()));
            }
        }
        return Collections.unmodifiableMap(out);
    }
}
