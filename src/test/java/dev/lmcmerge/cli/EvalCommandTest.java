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

    private Path images(String name, long... labels) throws Exception {
        java.util.List<byte[]> pngs = new java.util.ArrayList<>();
        java.util.Random rng = new java.util.Random(3);
        for (int i = 0; i < labels.length; i++) {
            java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(32, 32, java.awt.image.BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 32; x++) {
                    img.setRGB(x, y, rng.nextInt(1 << 24));
                }
            }
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            javax.imageio.ImageIO.write(img, "png", out);
            pngs.add(out.toByteArray());
        }
        Path f = dir.resolve(name);
        dev.lmcmerge.data.TestImages.write(f, pngs, labels);
        return f;
    }

    @Test
    void vitModelsScoreParquetImagesWithLossAndAccuracy() throws Exception {
        Path data = images("images.parquet", 0, 3, 9, 4, 4);
        String vit = CASES.resolve("models/vit").toString();
        Result all = lmc("eval", "--model", vit, "--data", data.toString(), "--batch-size", "2", "--json");
        assertEquals(0, all.code(), all.err());
        JsonNode j = JSON.readTree(all.out());
        assertEquals("classification", j.get("kind").asText());
        assertEquals(5, j.get("images").asInt());
        double acc = j.get("accuracy").asDouble();
        assertTrue(acc >= 0 && acc <= 1 && acc * 5 == Math.rint(acc * 5), all.out());
        Result single = lmc("eval", "--model", vit, "--data", data.toString(), "--batch-size", "1", "--json");
        assertEquals(j.get("loss").asDouble(), JSON.readTree(single.out()).get("loss").asDouble(), 1e-6);
    }

    @Test
    void labelsOutsideTheClassifierExitWith3() throws Exception {
        Path data = images("labels.parquet", 1, 10);
        Result r = lmc("eval", "--model", CASES.resolve("models/vit").toString(), "--data", data.toString());
        assertEquals(3, r.code());
        assertTrue(r.err().contains("labels.parquet, row 1") && r.err().contains("label 10"), r.err());
    }

    @Test
    void anUnknownSplitIsAUsageError() {
        Result r = lmc("eval", "--model", GPT_NEOX.toString(), "--data", IDS.toString(), "--split", "test");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--split"), r.err());
    }
}
