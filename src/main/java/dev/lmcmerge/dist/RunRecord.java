package dev.lmcmerge.dist;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lmcmerge.config.BuildInfo;
import dev.lmcmerge.config.JobConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What {@code run.json} records: the resolved configuration (secrets redacted), the versions
 * of lmc-merge, Java, Spark, DJL and libtorch, wall-clock seconds per phase, the loss of every
 * learned step, and the run's facts and results.
 */
public final class RunRecord {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final String runId;
    private final Instant started;
    private final Map<String, Double> timings = new LinkedHashMap<>();
    private final ObjectNode steps = JSON.createObjectNode();
    private final ObjectNode facts = JSON.createObjectNode();

    public RunRecord(String runId, Instant started) {
        this.runId = runId;
        this.started = started;
    }

    /** Runs {@code body} as phase {@code name}, adding its wall-clock seconds to the timings. */
    public <T> T phase(String name, Supplier<T> body) {
        long t0 = System.nanoTime();
        try {
            return body.get();
        } finally {
            timings.merge(name, (System.nanoTime() - t0) / 1e9, Double::sum);
        }
    }

    /** As {@link #phase(String, Supplier)} without a result. */
    public void phase(String name, Runnable body) {
        phase(name, () -> {
            body.run();
            return null;
        });
    }

    /** Seconds per phase so far. */
    public Map<String, Double> timings() {
        return timings;
    }

    /** Records the per-step losses of a learned method. */
    public void stepLosses(String method, double[] losses, int resumedFrom) {
        ObjectNode m = steps.putObject(method);
        m.put("resumed_from_step", resumedFrom);
        ArrayNode a = m.putArray("loss");
        for (double l : losses) {
            a.add(l);
        }
    }

    /** A free-form fact or result (e.g. the weight-matching distances, the merged method). */
    public ObjectNode facts() {
        return facts;
    }

    /** The whole record as indented JSON. */
    public String toJson(JobConfig job, Instant finished) {
        ObjectNode root = JSON.createObjectNode();
        root.put("run_id", runId);
        root.put("started", started.toString());
        root.put("finished", finished.toString());
        root.put("seconds", Duration.between(started, finished).toMillis() / 1000.0);
        try {
            JsonNode cfg = JSON.readTree(job.redactedJson());
            root.set("config", cfg);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ObjectNode v = root.putObject("versions");
        BuildInfo.versions().forEach(v::put);
        ObjectNode t = root.putObject("timings_seconds");
        timings.forEach(t::put);
        root.set("steps", steps);
        root.set("facts", facts);
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
