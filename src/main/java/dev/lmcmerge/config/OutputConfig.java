package dev.lmcmerge.config;

import java.util.List;
import java.util.Optional;

/**
 * {@code lmc.output}: where and what a run writes.
 *
 * @param path folder holding one sub-folder per run (required by {@code merge})
 * @param runId name of this run's folder; empty: a new id from the start time
 * @param mode what to do when the run's folder exists
 * @param mergedAlphas interpolation weights of the merged checkpoints to write
 * @param shardSizeBytes largest safetensors shard of a merged checkpoint
 * @param formats forms of each merged checkpoint
 */
public record OutputConfig(
        Optional<String> path,
        Optional<String> runId,
        Mode mode,
        List<Double> mergedAlphas,
        long shardSizeBytes,
        List<Format> formats) {

    /** Behaviour when the run's folder exists. */
    public enum Mode { ERROR, OVERWRITE, RESUME }

    /** Forms of a merged checkpoint: Parquet tensor shards, Hugging Face folder. */
    public enum Format { PARQUET, HF }

    /** A run id becomes a folder name: nothing that could climb out of output.path. */
    private static final String RUN_ID_PATTERN = "[A-Za-z0-9_][A-Za-z0-9._-]*";

    static OutputConfig read(ConfigReader r) {
        Optional<String> runId = r.optionalString("lmc.output.run-id");
        runId.ifPresent(id -> {
            if (!id.matches(RUN_ID_PATTERN) || id.contains("..")) {
                throw LmcException.usage("lmc.output.run-id", "expected letters, digits, '.', '_' and '-'"
                        + " (a folder name, not starting with '.' or '-'), got \"" + id + "\"");
            }
        });
        return new OutputConfig(
                r.optionalString("lmc.output.path"),
                runId,
                r.enumValue("lmc.output.mode", Mode.class),
                r.doubleList("lmc.output.merged-alphas", 0, true, 1, true),
                r.bytesAtLeast("lmc.output.shard-size", 1),
                r.enumList("lmc.output.formats", Format.class, false));
    }
}
