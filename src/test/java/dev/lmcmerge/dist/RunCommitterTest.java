package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.config.OutputConfig.Mode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunCommitterTest {
    @TempDir
    Path tmp;

    private final Configuration conf = new Configuration();

    private RunLayout layout(String runId) {
        return RunLayout.of(new org.apache.hadoop.fs.Path(tmp.toUri()), runId);
    }

    private static void write(org.apache.hadoop.fs.Path p, String text) throws IOException {
        Path f = Path.of(p.toUri());
        Files.createDirectories(f.getParent());
        Files.writeString(f, text, StandardCharsets.UTF_8);
    }

    @Test
    void committedRunAppearsAtTheFinalPathWithSuccessWrittenLast() throws IOException {
        RunCommitter c = RunCommitter.begin(layout("r1"), Mode.ERROR, conf);
        write(c.staged("curves/part-0.parquet"), "x");
        assertFalse(Files.exists(tmp.resolve("r1")), "nothing at the final path before commit");
        c.commit();
        assertTrue(Files.exists(tmp.resolve("r1/curves/part-0.parquet")));
        Path success = tmp.resolve("r1/_SUCCESS");
        assertTrue(Files.exists(success));
        assertTrue(Files.getLastModifiedTime(success).toMillis()
                >= Files.getLastModifiedTime(tmp.resolve("r1/curves/part-0.parquet")).toMillis());
        assertFalse(Files.exists(tmp.resolve("_staging")), "no staging left after commit");
    }

    @Test
    void modeErrorRefusesAnExistingRunNamingItsPath() throws IOException {
        Files.createDirectories(tmp.resolve("r1"));
        LmcException e = assertThrows(LmcException.class, () -> RunCommitter.begin(layout("r1"), Mode.ERROR, conf));
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertTrue(e.getMessage().contains(tmp.resolve("r1").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("output.mode"), e.getMessage());
    }

    @Test
    void abortLeavesNothingAtTheFinalPathAndNoStaging() throws IOException {
        RunCommitter c = RunCommitter.begin(layout("r1"), Mode.ERROR, conf);
        write(c.staged("report.html"), "half");
        c.abort();
        assertFalse(Files.exists(tmp.resolve("r1")));
        assertFalse(Files.exists(tmp.resolve("_staging")));
    }

    @Test
    void overwriteKeepsTheOldRunUntilTheNewOneCommits() throws IOException {
        write(new org.apache.hadoop.fs.Path(tmp.resolve("r1/old.txt").toUri()), "old");
        RunCommitter failing = RunCommitter.begin(layout("r1"), Mode.OVERWRITE, conf);
        failing.abort();
        assertTrue(Files.exists(tmp.resolve("r1/old.txt")), "a failed overwrite keeps the previous run");

        RunCommitter c = RunCommitter.begin(layout("r1"), Mode.OVERWRITE, conf);
        write(c.staged("new.txt"), "new");
        c.commit();
        assertFalse(Files.exists(tmp.resolve("r1/old.txt")));
        assertTrue(Files.exists(tmp.resolve("r1/new.txt")));
        assertTrue(Files.exists(tmp.resolve("r1/_SUCCESS")));
    }

    @Test
    void resumeOfACompleteRunHasNothingToDo() throws IOException {
        RunCommitter c = RunCommitter.begin(layout("r1"), Mode.ERROR, conf);
        c.commit();
        RunCommitter again = RunCommitter.begin(layout("r1"), Mode.RESUME, conf);
        assertTrue(again.alreadyComplete());
        assertFalse(Files.exists(tmp.resolve("_staging")));
    }

    @Test
    void resumeRemovesStagingOfKilledAttemptsOfTheSameRunOnly() throws IOException {
        write(new org.apache.hadoop.fs.Path(tmp.resolve("_staging/r1-dead/x").toUri()), "x");
        write(new org.apache.hadoop.fs.Path(tmp.resolve("_staging/other-live/x").toUri()), "x");
        RunCommitter c = RunCommitter.begin(layout("r1"), Mode.RESUME, conf);
        assertFalse(Files.exists(tmp.resolve("_staging/r1-dead")));
        assertTrue(Files.exists(tmp.resolve("_staging/other-live/x")));
        c.abort();
    }

    @Test
    void commitDeletesTheTrainingCheckpointsAbortKeepsThem() throws IOException {
        RunLayout l = layout("r1");
        write(new org.apache.hadoop.fs.Path(l.checkpointDir(), "dual-step-00000001.safetensors"), "x");
        RunCommitter failed = RunCommitter.begin(l, Mode.RESUME, conf);
        failed.abort();
        assertTrue(Files.exists(Path.of(l.checkpointDir().toUri())));
        RunCommitter ok = RunCommitter.begin(layout("r1"), Mode.RESUME, conf);
        ok.commit();
        assertFalse(Files.exists(Path.of(l.checkpointDir().toUri())));
    }

    @Test
    void runIdsNamingReservedFoldersAreRefused() {
        LmcException e = assertThrows(LmcException.class,
                () -> RunCommitter.begin(layout("_staging"), Mode.ERROR, conf));
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertTrue(e.getMessage().contains("lmc.output.run-id"));
    }
}
