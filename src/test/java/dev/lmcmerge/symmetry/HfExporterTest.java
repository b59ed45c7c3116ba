package dev.lmcmerge.symmetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.io.TensorInfo;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.Weights;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Exported folders are stock checkpoints of the same architecture: same tensor names, shapes and
 * model_type as the source (a tied unembedding now explicit), and, re-read by the project's loader,
 * the same logits within 1e-4.
 */
class HfExporterTest {
    private static final double TOL = 1e-4;
    private static NDManager manager;

    @TempDir
    java.nio.file.Path tmp;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String m : List.of("gpt_neox", "gpt_neox_sequential", "llama", "qwen2", "gpt2", "vit")) {
            // Each group alone is checked through the exporter's config in TransformEngineTest; here the
            // file round trip with every group, and with the scale alone (the eps rule).
            out.add(Arguments.of(m, EnumSet.of(SlotGroup.SCALE)));
            out.add(Arguments.of(m, SlotGroup.all()));
        }
        for (String f : TinyModels.FAMILIES) {
            out.add(Arguments.of("reference " + f, SlotGroup.all()));
        }
        return out.stream();
    }

    /** The source folder: a reference checkpoint, or a tiny random model written with a tokenizer file. */
    private String sourceFolder(String name) throws IOException {
        if (name.startsWith("reference ")) {
            return TinyModels.referenceFolder(name.substring("reference ".length()));
        }
        Architecture arch = TinyModels.tinyArchitecture(name);
        java.nio.file.Path tok = tmp.resolve("tokenizer.json");
        Files.writeString(tok, "{\"version\": \"1.0\", \"model\": {}}");
        String folder = tmp.resolve("source-" + name).toString();
        TinyModels.writeFolder(arch, TinyModels.randomWeights(arch, 17, manager), TinyModels.configJson(name), folder,
                List.of(new Path(tok.toUri())));
        return folder;
    }

    private static Map<String, List<Long>> fileShapes(String folder) throws IOException {
        try (HfCheckpoint c = HfCheckpoint.open(folder, new Configuration())) {
            Map<String, List<Long>> out = new TreeMap<>();
            for (TensorInfo t : c.tensors().values()) {
                out.put(t.name(), Arrays.stream(t.shape()).boxed().toList());
            }
            return out;
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void exportedFolderIsTheSameArchitectureWithTheSameLogits(String name, Set<SlotGroup> groups) throws IOException {
        String source = sourceFolder(name);
        TinyModels.Loaded original = TinyModels.loadFolder(source, manager);
        TransformSpec spec = TransformSpec.forArchitecture(original.arch());
        Weights canonical = Canonicalizer.canonicalize(spec, original.weights());
        Transform t = Transform.random(spec, groups, 23, manager);
        Weights transformed = TransformEngine.apply(spec, t, canonical);
        String out = tmp.resolve("export-" + name.replace(' ', '-')).toString();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (HfCheckpoint src = HfCheckpoint.open(source, new Configuration())) {
            new HfExporter(spec, original.config()).epsScale(t.epsScale()).tokenizerFiles(src.tokenizerFiles())
                    .log(new PrintStream(log, true, StandardCharsets.UTF_8)).write(transformed, out, new Configuration());
        }

        // same tensors (tied unembedding now written), shapes and model type
        Map<String, List<Long>> expected = new TreeMap<>(fileShapes(source));
        if (spec.tiedHead() != null) {
            expected.put(spec.tiedHead(), expected.get(spec.tiedEmbedding()));
        }
        assertEquals(expected, fileShapes(out));
        TinyModels.Loaded reread = TinyModels.loadFolder(out, manager);
        assertEquals(original.config().get("model_type"), reread.config().get("model_type"));
        assertFalse(reread.arch().config().tieWordEmbeddings());

        // eps changes only with a residual scale, and says so
        ModelConfig before = original.arch().config();
        ModelConfig after = reread.arch().config();
        if (groups.contains(SlotGroup.SCALE)) {
            assertEquals(before.normEps() * t.epsScale(), after.normEps(), before.normEps() * 1e-9);
            assertTrue(log.toString(StandardCharsets.UTF_8).contains("residual scaling"), log.toString());
        } else {
            assertEquals(before.normEps(), after.normEps());
            assertEquals("", log.toString(StandardCharsets.UTF_8));
        }

        NDArray input = TinyModels.input(original.arch(), manager, 9);
        ExactnessCheck.verifyPreserved(original.arch(), original.weights(), reread.arch(), reread.weights(), input, TOL);
    }

    @Test
    void normsAreExportedWithWeightOne() throws IOException {
        String source = sourceFolder("gpt2");
        TinyModels.Loaded original = TinyModels.loadFolder(source, manager);
        TransformSpec spec = TransformSpec.forArchitecture(original.arch());
        Weights canonical = Canonicalizer.canonicalize(spec, original.weights());
        String out = tmp.resolve("norms").toString();
        new HfExporter(spec, original.config()).log(new PrintStream(new ByteArrayOutputStream(), true))
                .write(canonical, out, new Configuration());
        TinyModels.Loaded reread = TinyModels.loadFolder(out, manager);
        for (NormRule n : spec.norms()) {
            NDArray g = reread.weights().get(n.weight());
            assertEquals(0.0, TinyModels.maxAbsDiff(g, g.onesLike()), n.weight());
        }
    }

    @Test
    void tokenizerFilesAreCopied() throws IOException {
        String source = sourceFolder("llama");
        TinyModels.Loaded original = TinyModels.loadFolder(source, manager);
        TransformSpec spec = TransformSpec.forArchitecture(original.arch());
        String out = tmp.resolve("tok").toString();
        try (HfCheckpoint src = HfCheckpoint.open(source, new Configuration())) {
            new HfExporter(spec, original.config()).tokenizerFiles(src.tokenizerFiles())
                    .write(Canonicalizer.canonicalize(spec, original.weights()), out, new Configuration());
        }
        assertTrue(Files.exists(java.nio.file.Path.of(out, "tokenizer.json")));
    }

    @Test
    void exportedConfigUntiesAndKeepsEverythingElse() {
        JsonNode cfg = TinyModels.configJson("gpt2");
        TransformSpec spec = TransformSpec.forArchitecture(TinyModels.tinyArchitecture("gpt2"));
        JsonNode exported = new HfExporter(spec, cfg).epsScale(4).exportedConfig();
        assertFalse(exported.get("tie_word_embeddings").asBoolean());
        assertEquals(4e-5, exported.get("layer_norm_epsilon").asDouble(), 1e-15);
        Map<String, JsonNode> rest = new LinkedHashMap<>();
        cfg.fields().forEachRemaining(e -> rest.put(e.getKey(), e.getValue()));
        for (Map.Entry<String, JsonNode> e : rest.entrySet()) {
            if (!e.getKey().equals("layer_norm_epsilon")) {
                assertEquals(e.getValue(), exported.get(e.getKey()), e.getKey());
            }
        }
    }
}
