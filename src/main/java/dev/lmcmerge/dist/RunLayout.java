package dev.lmcmerge.dist;

import java.io.Serializable;
import java.util.UUID;
import org.apache.hadoop.fs.Path;

/**
 * Where one run's files live under {@code output.path} (DESIGN.md section 7):
 *
 * <pre>
 *   output.path/RUN_ID/                      the finished run (appears whole, by rename)
 *   output.path/RUN_ID/_SUCCESS              written last
 *   output.path/_staging/RUN_ID-UUID/        this attempt's files while it runs
 *   output.path/_checkpoints/RUN_ID/         transform parameters + optimizer state for resume
 * </pre>
 *
 * Folders starting with {@code _} are skipped by Spark, Hive and pyarrow when they list
 * {@code output.path} for runs, so staging and checkpoints never look like a run.
 *
 * @param root   {@code output.path}, fully qualified
 * @param runId  the run's folder name
 * @param attempt a unique suffix of this attempt's staging folder
 */
public record RunLayout(Path root, String runId, String attempt) implements Serializable {

    /** Marker file of a complete run. */
    public static final String SUCCESS = "_SUCCESS";
    /** Folder of in-progress attempts under {@code output.path}. */
    public static final String STAGING = "_staging";
    /** Folder of resumable training state under {@code output.path}. */
    public static final String CHECKPOINTS = "_checkpoints";

    /** The layout of a new attempt of run {@code runId} under {@code root}. */
    public static RunLayout of(Path root, String runId) {
        return new RunLayout(root, runId, UUID.randomUUID().toString().substring(0, 8));
    }

    /** {@code output.path/RUN_ID}: where the finished run appears. */
    public Path finalDir() {
        return new Path(root, runId);
    }

    /** {@code output.path/RUN_ID/_SUCCESS}. */
    public Path successMarker() {
        return new Path(finalDir(), SUCCESS);
    }

    /** {@code output.path/_staging}: holds the attempts of all runs. */
    public Path stagingRoot() {
        return new Path(root, STAGING);
    }

    /** This attempt's staging folder, {@code output.path/_staging/RUN_ID-ATTEMPT}. */
    public Path stagingDir() {
        return new Path(stagingRoot(), runId + "-" + attempt);
    }

    /** {@code relative} inside this attempt's staging folder, e.g. {@code staged("curves")}. */
    public Path staged(String relative) {
        return new Path(stagingDir(), relative);
    }

    /**
     * Where {@code staged}, a path inside this attempt's staging folder, will be once the run is
     * published: what to tell the user, since the staged path is gone after the rename.
     *
     * @throws IllegalArgumentException if {@code staged} is not inside the staging folder
     */
    public Path published(Path staged) {
        String base = stagingDir().toUri().getPath();
        String path = staged.toUri().getPath();
        if (path.equals(base)) {
            return finalDir();
        }
        if (!path.startsWith(base + "/")) {
            throw new IllegalArgumentException(staged + " is not inside the staging folder " + stagingDir());
        }
        return new Path(finalDir(), path.substring(base.length() + 1));
    }

    /** {@code output.path/_checkpoints/RUN_ID}: durable training state across attempts. */
    public Path checkpointDir() {
        return new Path(new Path(root, CHECKPOINTS), runId);
    }
}
