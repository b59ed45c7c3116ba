package dev.lmcmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TransformCommandTest {
    private static final Path MODELS = Path.of(System.getProperty("lmc.shared.dir", "../shared"), "reference-cases/models");

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    private static Result lmc(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    private static double reportedDiff(String out) {
        Matcher m = Pattern.compile("max \\|logit diff\\| (\\S+)").matcher(out);
        assertTrue(m.find(), out);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void exportsAnExactStockCheckpointOfTheSameArchitecture() throws IOException {
        Path out = dir.resolve("gpt2-t");
        Result r = lmc("transform", "--model", MODELS.resolve("gpt2").toString(), "--random-seed", "3",
                "--out", out.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(reportedDiff(r.out()) <= 1e-4, r.out());
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("gpt2", cfg.get("model_type").asText());
        assertFalse(cfg.get("tie_word_embeddings").asBoolean());
        assertTrue(r.err().contains("residual scaling"), "the eps change is announced: " + r.err());
    }

    @Test
    void chosenSlotsOnlyLeaveEpsAlone() throws IOException {
        Path out = dir.resolve("llama-t");
        Result r = lmc("transform", "--model", MODELS.resolve("llama").toString(), "--random-seed", "4",
                "--out", out.toString(), "--slots", "heads,qk,vo,ffn", "--rotation", "expm");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(reportedDiff(r.out()) <= 1e-4, r.out());
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        JsonNode src = new ObjectMapper().readTree(MODELS.resolve("llama/config.json").toFile());
        assertEquals(src.get("rms_norm_eps"), cfg.get("rms_norm_eps"));
        assertEquals("", r.err());
    }

    @Test
    void unknownSlotIsAUsageError() {
        Result r = lmc("transform", "--model", MODELS.resolve("vit").toString(), "--random-seed", "1",
                "--out", dir.resolve("x").toString(), "--slots", "residual,bogus");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--slots") && r.err().contains("bogus"), r.err());
    }

    @Test
    void existingOutputFolderIsRefused() throws IOException {
        Path out = Files.createDirectories(dir.resolve("taken"));
        Result r = lmc("transform", "--model", MODELS.resolve("vit").toString(), "--random-seed", "1",
                "--out", out.toString());
        assertEquals(3, r.code(), r.err());
        assertTrue(r.err().contains("taken"), r.err());
    }
}
