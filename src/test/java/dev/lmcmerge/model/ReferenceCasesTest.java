package dev.lmcmerge.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lmcmerge.io.Npy;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The acceptance test of the model code: for every Hugging Face reference case (tiny models of
 * each family with random weights and random norm affines), the forward pass reproduces the
 * transformers logits within 1e-4, every hidden state within 1e-4 and the LM loss within 1e-5.
 */
class ReferenceCasesTest {
    static final double LOGIT_TOL = 1e-4;
    static final double HIDDEN_TOL = 1e-4;
    static final double LOSS_TOL = 1e-5;

    static Path casesDir() {
        return Path.of(System.getProperty("lmc.shared.dir", "../shared"), "reference-cases");
    }

    static JsonNode cases() throws IOException {
        return new ObjectMapper().readTree(casesDir().resolve("cases.json").toFile());
    }

    @TestFactory
    Stream<DynamicTest> everyReferenceCaseMatchesTransformers() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        JsonNode cases = cases().get("cases");
        assertTrue(cases.size() >= 4, "cases.json lists the four families");
        for (JsonNode c : cases) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
        }
        return tests.stream();
    }

    static NDArray npy(NDManager m, String relative) {
        File f = casesDir().resolve(relative).toFile();
        return NpyArrays.toNDArray(Npy.read(new org.apache.hadoop.fs.Path(f.toURI()), new Configuration()), m);
    }

    static double maxAbsDiff(NDArray a, NDArray b) {
        assertArrayEquals(b.getShape().getShape(), a.getShape().getShape(), "shape");
        return a.sub(b).abs().max().getFloat();
    }

    private static void check(JsonNode c) {
        String name = c.get("name").asText();
        String dir = casesDir().resolve(c.get("model_dir").asText()).toString();
        try (NDManager m = NDManager.newBaseManager();
             ModelLoader.LoadedModel model = ModelLoader.open(dir, m.newSubManager())) {
            Architecture arch = model.architecture();
            Weights w = model.weights();
            boolean lm = "causal_lm".equals(c.get("kind").asText());
            NDArray input = lm ? npy(m, c.at("/input/input_ids").asText()) : npy(m, c.at("/input/pixel_values").asText());
            NDArray expectedHidden = npy(m, c.at("/outputs/hidden_states").asText());
            NDArray expectedLogits = npy(m, c.at("/outputs/logits").asText());
            int layers = arch.config().numLayers();
            assertEquals(layers + 1, expectedHidden.getShape().get(0), name + ": hidden states per layer");

            NDArray h = arch.embed(w, input);
            double embDiff = maxAbsDiff(h, expectedHidden.get(0));
            assertTrue(embDiff <= HIDDEN_TOL, name + ": embedding output max |diff| " + embDiff);
            double worstHidden = embDiff;
            for (int l = 0; l < layers; l++) {
                h = arch.block(l, w, h);
                // transformers records a language model's last hidden state after the final norm.
                NDArray seen = lm && l == layers - 1 ? arch.finalNorm(w, h) : h;
                double d = maxAbsDiff(seen, expectedHidden.get(l + 1));
                assertTrue(d <= HIDDEN_TOL, name + ": block " + l + " output max |diff| " + d);
                worstHidden = Math.max(worstHidden, d);
            }
            NDArray logits = arch.head(w, h);
            double logitDiff = maxAbsDiff(logits, expectedLogits);
            System.out.printf("reference case %s: max |dlogit| = %.3g, max |dhidden| = %.3g%n", name, logitDiff,
                    worstHidden);
            assertTrue(logitDiff <= LOGIT_TOL, name + ": logits max |diff| " + logitDiff);
            assertFalse(Double.isNaN(logitDiff));

            NDArray full = arch.forward(w, input);
            assertEquals(0.0, maxAbsDiff(full, logits), 0.0, name + ": forward() equals embed/block/head");
            if (lm) {
                double loss = Losses.causalLm(logits, input).getFloat();
                double expected = c.get("loss").asDouble();
                System.out.printf("reference case %s: loss %.8f vs %.8f (|diff| %.3g)%n", name, loss, expected,
                        Math.abs(loss - expected));
                assertEquals(expected, loss, LOSS_TOL, name + ": loss");
            }
        }
    }
}
