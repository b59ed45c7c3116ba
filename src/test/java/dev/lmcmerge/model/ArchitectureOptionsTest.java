package dev.lmcmerge.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.Npy;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each family's config options against Hugging Face transformers, on tiny checkpoints the test
 * writes itself: partial vs full rotary, parallel vs sequential residual, gelu_new in GPT-NeoX,
 * GQA ratios 1, 2 and 4, tied and untied heads, llama3 and linear RoPE scaling, explicit
 * head_dim, attention and MLP biases, qwen2 biases, mistral's sliding window, the
 * rope_parameters config style, GPT-2's untied head and inverse-layer attention scale, ViT
 * without q/k/v biases. The expected logits, loss and tensor lists come from
 * {@code src/test/resources/model/make_fixtures.py} (transformers 5.18); the weights are
 * recomputed by {@link FixtureWeights}.
 */
class ArchitectureOptionsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static Path fixturesDir() throws URISyntaxException {
        return Path.of(ArchitectureOptionsTest.class.getResource("/model/input_ids.npy").toURI()).getParent();
    }

    static NDArray npy(NDManager m, Path file) {
        return NpyArrays.toNDArray(Npy.read(new org.apache.hadoop.fs.Path(file.toUri()), new Configuration()), m);
    }

    @TestFactory
    Stream<DynamicTest> everyFixtureMatchesTransformers() throws IOException, URISyntaxException {
        List<DynamicTest> tests = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(fixturesDir())) {
            for (Path d : dirs.filter(p -> Files.exists(p.resolve("config.json"))).sorted().toList()) {
                tests.add(DynamicTest.dynamicTest(d.getFileName().toString(), () -> check(d)));
            }
        }
        assertTrue(tests.size() >= 10, "fixtures found: " + tests.size());
        return tests.stream();
    }

    private void check(Path fixture) throws Exception {
        String name = fixture.getFileName().toString();
        JsonNode config = JSON.readTree(fixture.resolve("config.json").toFile());
        JsonNode expected = JSON.readTree(fixture.resolve("expected.json").toFile());
        ModelConfig cfg = ModelConfig.parse(config, fixture.resolve("config.json").toString());
        Architecture arch = Architectures.of(cfg);

        // The tensor table is exactly what transformers writes (tied tensors omitted from the file).
        Map<String, String> hf = new TreeMap<>();
        for (JsonNode t : expected.get("tensors")) {
            hf.put(t.get(0).asText(), t.get(1).toString().replace(" ", ""));
        }
        Map<String, String> ours = new TreeMap<>();
        for (TensorSpec t : arch.tensors()) {
            if (!t.tied()) {
                ours.put(t.name(), Arrays.toString(t.shape()).replace(" ", ""));
            } else {
                assertFalse(hf.containsKey(t.name()), name + ": tied " + t.name() + " is not written by transformers");
            }
        }
        assertEquals(hf, ours, name + ": tensor names and shapes");

        Path folder = tmp.resolve(name);
        FixtureWeights.writeCheckpoint(folder, config, arch, DType.F32);
        try (NDManager m = NDManager.newBaseManager();
             ModelLoader.LoadedModel model = ModelLoader.open(folder.toString(), m.newSubManager())) {
            assertEquals(cfg, model.config());
            for (TensorSpec t : arch.tensors()) {
                if (t.tied()) {
                    assertSame(model.weights().get(t.tiedTo()), model.weights().get(t.name()), name + ": tied storage");
                }
            }
            boolean lm = cfg.family().causalLm();
            NDArray input = npy(m, fixturesDir().resolve(lm ? "input_ids.npy" : "pixel_values.npy"));
            NDArray logits = model.architecture().forward(model.weights(), input);
            NDArray want = npy(m, fixture.resolve("logits.npy"));
            double diff = ReferenceCasesTest.maxAbsDiff(logits, want);
            System.out.printf("fixture %s: max |dlogit| = %.3g%n", name, diff);
            assertTrue(diff <= ReferenceCasesTest.LOGIT_TOL, name + ": logits max |diff| " + diff);
            if (lm) {
                double loss = Losses.causalLm(logits, input).getFloat();
                assertEquals(expected.get("loss").asDouble(), loss, ReferenceCasesTest.LOSS_TOL, name + ": loss");
            }
        }
    }
}
