package dev.lmcmerge.dist;

import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.config.OutputConfig.Mode;
import dev.lmcmerge.io.FileSystems;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.UUID;
import java.util.logging.Logger;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The commit protocol of one run (DESIGN.md section 7): everything is written into a private
 * staging folder, which is renamed to {@code output.path/RUN_ID} at the end, and only then is
 * {@code _SUCCESS} created. A run that fails or is killed therefore leaves no {@code _SUCCESS} and
 * nothing at the final path (on HDFS and local disks, where a folder rename is atomic; on object
 * stores the rename is a copy, so an interrupted commit can leave a partial folder, but never its
 * {@code _SUCCESS}).
 *
 * <p>{@link #begin} applies {@code output.mode} before any work is done:
 * {@code error} refuses an existing run folder (exit 2, naming it); {@code overwrite} replaces it
 * at commit time (so a failed overwrite leaves the old run intact); {@code resume} reports a run
 * that is already complete and otherwise continues from the saved training state.
 */
public final class RunCommitter {
    private static final Logger LOG = Logger.getLogger(RunCommitter.class.getName());

    private final RunLayout layout;
    private final Configuration conf;
    private final FileSystem fs;
    private final boolean alreadyComplete;
    private boolean committed;

    private RunCommitter(RunLayout layout, Configuration conf, boolean alreadyComplete) {
        this.layout = layout;
        this.conf = conf;
        this.fs = FileSystems.fs(layout.root(), conf);
        this.alreadyComplete = alreadyComplete;
    }

    /**
     * Checks {@code output.mode} against what exists and, unless the run is already complete,
     * creates this attempt's staging folder.
     *
     * @throws LmcException USAGE naming the run folder when it exists and mode is {@code error},
     *                      or when the run id names a reserved folder
     */
    public static RunCommitter begin(RunLayout layout, Mode mode, Configuration conf) {
        if (layout.runId().startsWith("_") || layout.runId().startsWith(".")) {
            throw LmcException.usage("lmc.output.run-id", "\"" + layout.runId() + "\" starts with '" + layout.runId()
                    .charAt(0) + "'; folders starting with '_' or '.' under output.path are reserved (staging,"
                    + " checkpoints) and skipped by readers; choose a name starting with a letter or digit");
        }
        FileSystem fs = FileSystems.fs(layout.root(), conf);
        FileSystems.requireCreatable(layout.stagingDir(), conf, "lmc.output.path");
        Path finalDir = layout.finalDir();
        boolean exists = exists(fs, finalDir);
        boolean complete = exists && exists(fs, layout.successMarker());
        switch (mode) {
            case ERROR -> {
                if (exists) {
                    throw LmcException.usage("lmc.output.mode", finalDir + " already exists"
                            + (complete ? " (a complete run)" : "") + "; choose another output.run-id, or set"
                            + " output.mode=overwrite to replace it or output.mode=resume to continue it");
                }
            }
            case RESUME -> {
                if (complete) {
                    return new RunCommitter(layout, conf, true);
                }
            }
            case OVERWRITE -> {
                // The old run stays in place until this one commits.
            }
        }
        RunCommitter c = new RunCommitter(layout, conf, false);
        if (mode != Mode.ERROR) {
            c.removeStaleAttempts();
        }
        try {
            if (!fs.mkdirs(layout.stagingDir())) {
                // The local file system says false, not why: almost always a folder without write permission.
                throw LmcException.usage("lmc.output.path", layout.stagingDir() + ": cannot create the staging"
                        + " folder (no write permission?); expected a folder this job can write");
            }
        } catch (org.apache.hadoop.fs.ParentNotDirectoryException | org.apache.hadoop.fs.FileAlreadyExistsException
                 | org.apache.hadoop.security.AccessControlException | java.nio.file.AccessDeniedException e) {
            throw new LmcException(ExitCode.USAGE, "lmc.output.path: " + layout.stagingDir()
                    + ": cannot create the staging folder (" + e.getMessage() + "); expected a folder this job can write",
                    e);
        } catch (IOException e) {
            throw FileSystems.ioError(layout.stagingDir().toString(), "cannot create the staging folder", e);
        }
        return c;
    }

    /** True when {@code output.mode = resume} found a complete run: nothing is left to do. */
    public boolean alreadyComplete() {
        return alreadyComplete;
    }

    /** The layout of this attempt. */
    public RunLayout layout() {
        return layout;
    }

    /** A path inside this attempt's staging folder. */
    public Path staged(String relative) {
        return layout.staged(relative);
    }

    /**
     * Publishes the staged run: renames the staging folder to {@code output.path/RUN_ID}
     * (replacing an earlier run there), creates {@code _SUCCESS} in it, and deletes the
     * training checkpoints, which a complete run no longer needs.
     */
    public void commit() {
        if (alreadyComplete) {
            throw new IllegalStateException("run " + layout.runId() + " was already complete; nothing to commit");
        }
        Path finalDir = layout.finalDir();
        Path staging = layout.stagingDir();
        try {
            Path old = null;
            if (fs.exists(finalDir)) {
                // Move the old run aside first, so there is never a moment with two half-runs mixed.
                old = new Path(layout.stagingRoot(), layout.runId() + "-replaced-" + UUID.randomUUID());
                rename(finalDir, old);
            }
            if (!fs.exists(finalDir.getParent())) {
                fs.mkdirs(finalDir.getParent());
            }
            rename(staging, finalDir);
            if (old != null) {
                fs.delete(old, true);
            }
            fs.create(layout.successMarker(), false).close();
            committed = true;
            deleteQuietly(layout.checkpointDir());
            deleteIfEmpty(layout.checkpointDir().getParent());
            deleteIfEmpty(layout.stagingRoot());
        } catch (IOException e) {
            throw new LmcException(ExitCode.FAILURE, finalDir + ": cannot publish the run from " + staging + ": " + e, e);
        }
    }

    /**
     * Removes this attempt's staging folder after a failure. Training checkpoints stay, so
     * {@code output.mode = resume} can continue. Never throws: the failure being handled is the one to report.
     */
    public void abort() {
        if (committed || alreadyComplete) {
            return;
        }
        deleteQuietly(layout.stagingDir());
        deleteIfEmpty(layout.stagingRoot());
    }

    /** Staging folders of earlier attempts of this run id (killed runs leave them behind). */
    private void removeStaleAttempts() {
        try {
            if (!fs.exists(layout.stagingRoot())) {
                return;
            }
            for (FileStatus s : fs.listStatus(layout.stagingRoot())) {
                if (s.getPath().getName().startsWith(layout.runId() + "-")) {
                    LOG.info("removing staging folder of an earlier attempt: " + s.getPath());
                    fs.delete(s.getPath(), true);
                }
            }
        } catch (IOException e) {
            throw FileSystems.ioError(layout.stagingRoot().toString(), "cannot clean earlier attempts", e);
        }
    }

    private void rename(Path from, Path to) throws IOException {
        if (!fs.rename(from, to)) {
            throw new IOException("rename of " + from + " to " + to + " failed");
        }
    }

    private void deleteQuietly(Path p) {
        try {
            fs.delete(p, true);
        } catch (IOException e) {
            LOG.warning("cannot delete " + p + ": " + e);
        }
    }

    private void deleteIfEmpty(Path dir) {
        try {
            FileStatus[] children = fs.listStatus(dir);
            if (children.length == 0) {
                fs.delete(dir, false);
            }
        } catch (FileNotFoundException e) {
            // nothing to clean
        } catch (IOException e) {
            LOG.fine("cannot tidy " + dir + ": " + e);
        }
    }

    private static boolean exists(FileSystem fs, Path p) {
        try {
            return fs.exists(p);
        } catch (IOException e) {
            throw FileSystems.ioError(p.toString(), "cannot check whether it exists", e);
        }
    }

    /** The Hadoop configuration the run writes with. */
    public Configuration conf() {
        return conf;
    }
}
