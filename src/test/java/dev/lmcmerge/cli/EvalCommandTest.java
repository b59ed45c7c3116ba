package dev.lmcmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lmcmerge.io.FileSystems;
import dev.lmcmerge.io.Npy;
import dev.lmcmerge.io.NpyArray;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path CASES = Path.of(System.getProperty("lmc.shared.dir", "../shared"), "reference-cases");
    private static final Path GPT_NEOX = CASES.resolve("models/gpt_neox");
    private static final Path IDS = CASES.resolve("arrays/lm_input_ids.npy");

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    private static Result lmc(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    private static double referenceLoss(String caseName) throws Exception {
        for (JsonNode c : JSON.readTree(CASES.resolve("cases.json").toFile()).get("cases")) {
            if (c.get("name").asText().equals(caseName)) {
                return c.get("loss").asDouble();
            }
        }
        throw new AssertionError("no case " + caseName);
    }

    @Test
    void npyInputGivesTheHuggingFaceLossOfTheReferenceCase() throws Exception {
        Result r = lmc("eval", "--model", GPT_NEOX.toString(), "--data", IDS.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = JSON.readTree(r.out());
        assertEquals(referenceLoss("gpt_neox"), j.get("loss").asDouble(), 1e-5);
        assertEquals(Math.exp(j.get("loss").asDouble()), j.get("perplexity").asDouble(), 1e-9);
        assertEquals(2, j.get("sequences").asInt());
        assertEquals(32, j.get("tokens").asInt());
        assertEquals(30, j.get("predicted_tokens").asInt());
        assertEquals("npy", j.get("format").asText());
    }

    @Test
    void theLossDoesNotDependOnTheBatchSize() throws Exception {
        Result one = lmc("eval", "--model", GPT_NEOX.toString(), "--data", IDS.toString(), "--batch-size", "1", "--json");
        assertEquals(0, one.code(), one.err());
        assertEquals(referenceLoss("gpt_neox"), JSON.readTree(one.out()).get("loss").asDouble(), 1e-5);
    }

    @Test
    void textIsReadAsBytesAndTheEvalSplitIsItsLastTenthOfSequences() throws Exception {
        Path text = dir.resolve("t.txt");
        Files.writeString(text, "In the beginning was the word. ".repeat(40)); // 1240 bytes
        Result r = lmc("eval", "--model", GPT_NEOX.toString(), "--data", text.toString(), "--seq-len", "16",
                "--split", "eval", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = JSON.readTree(r.out());
        assertEquals("bytes", j.get("tokenizer").asText());
        assertEquals(8, j.get("sequences").asInt()); // 77 sequences of 16 bytes, ceil(7.7) held out
        assertTrue(j.get("loss").asDouble() > 0);
    }

    @Test
    void textOutputNamesLossPerplexityAndCounts() {
        Result r = lmc("eval", "--model", GPT_NEOX.toString(), "--data", IDS.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("loss") && r.out().contains("perplexity") && r.out().contains("32 tokens"), r.out());
    }

    @Test
    void tokenIdsBeyondTheVocabularyExitWith3NamingTheFile() {
        Path bad = dir.resolve("bad.npy");
        Npy.write(FileSystems.resolve(bad.toString()), new Configuration(),
                NpyArray.ofLongs(new long[] {1, 4}, new long[] {1, 2, 512, 3}));
        Result r = lmc("eval", "--model", GPT_NEOX.toString(), "--data", bad.toString());
        assertEquals(3, r.code());
        assertTrue(r.err().contains("bad.npy") && r.err().contains("512"), r.err());
    }

    @Test
    void aMissingDatasetExitsWith3NamingIt() {
        Result r = lmc("eval", "--model", GPT_NEOX.toString(), "--data", dir.resolve("none.parquet").toString());
        assertEquals(3, r.code());
        assertTrue(r.err().contains("none.parquet"), r.err());
    }

    @Test
    void anUnknownSplitIsAUsageError() {
        Result r = lmc("eval", "--model", GPT_NEOX.toString(), "--data", IDS.toString(), "--split", "test");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--split"), r.err());
    }
}
