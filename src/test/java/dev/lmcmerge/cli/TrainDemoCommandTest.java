package dev.lmcmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainDemoCommandTest {
    @TempDir
    Path dir;

    private int lmc(StringWriter out, StringWriter err, String... args) {
        return Main.run(new PrintWriter(out), new PrintWriter(err), args);
    }

    @Test
    void writesAHuggingFaceFolderThatEvalReadsAndReportsProgress() throws Exception {
        Path text = dir.resolve("t.txt");
        Files.writeString(text, "Blessed are the meek: for they shall inherit the earth.\n".repeat(50));
        Path out = dir.resolve("m");
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = lmc(o, e, "train-demo", "--out", out.toString(), "--seed", "3", "--text", text.toString(),
                "--layers", "1", "--width", "32", "--heads", "4", "--seq-len", "16", "--batch-size", "2",
                "--steps", "3", "--eval-batches", "1");
        assertEquals(0, code, e.toString());
        assertTrue(Files.exists(out.resolve("config.json")) && Files.exists(out.resolve("model.safetensors")));
        assertTrue(e.toString().contains("step 3/3"), e.toString());
        assertTrue(o.toString().contains("eval loss"), o.toString());
        StringWriter eo = new StringWriter();
        StringWriter ee = new StringWriter();
        assertEquals(0, lmc(eo, ee, "eval", "--model", out.toString(), "--data", text.toString(), "--split", "eval"),
                ee.toString());
        assertTrue(eo.toString().contains("seq") || eo.toString().contains("sequences"), eo.toString());
    }

    @Test
    void anExistingOutputFolderIsRefusedWithoutOverwrite() throws Exception {
        Path text = dir.resolve("t.txt");
        Files.writeString(text, "x".repeat(500));
        Path out = dir.resolve("exists");
        Files.createDirectories(out);
        StringWriter e = new StringWriter();
        int code = lmc(new StringWriter(), e, "train-demo", "--out", out.toString(), "--seed", "1", "--text",
                text.toString(), "--layers", "1", "--width", "32", "--seq-len", "8", "--steps", "1", "--eval-batches", "0");
        assertEquals(3, code, e.toString());
        assertTrue(e.toString().contains("exists"), e.toString());
    }

    @Test
    void headsThatDoNotDivideTheWidthAreAUsageError() {
        StringWriter e = new StringWriter();
        int code = lmc(new StringWriter(), e, "train-demo", "--out", dir.resolve("x").toString(), "--seed", "1",
                "--width", "30", "--heads", "4");
        assertEquals(2, code, e.toString());
        assertTrue(e.toString().contains("--heads"), e.toString());
    }
}
