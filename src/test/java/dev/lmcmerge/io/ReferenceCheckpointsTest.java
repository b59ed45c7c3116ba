package dev.lmcmerge.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The checkpoints and arrays Hugging Face wrote for the reference cases
 * ({@code lmc.shared.dir}/reference-cases) read as cases.json describes them, and our writers
 * reproduce Hugging Face's files byte for byte.
 */
class ReferenceCheckpointsTest {
    @TempDir
    Path tmp;

    private static final Configuration CONF = new Configuration();

    static Path referenceDir() {
        return Paths.get(System.getProperty("lmc.shared.dir", "../shared"), "reference-cases");
    }

    static Stream<JsonNode> cases() throws IOException {
        JsonNode root = new ObjectMapper().readTree(referenceDir().resolve("cases.json").toFile());
        List<JsonNode> out = new ArrayList<>();
        root.get("cases").forEach(out::add);
        return out.stream();
    }

    private static String folder(JsonNode c) {
        return referenceDir().resolve(c.get("model_dir").asText()).toString();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void referenceCheckpointHasTheListedTensorsAndDtype(JsonNode c) throws IOException {
        try (HfCheckpoint ck = HfCheckpoint.open(folder(c), CONF)) {
            assertEquals(c.get("num_tensors").asInt(), ck.tensors().size());
            assertEquals(c.get("arch").asText(), ck.config().get("model_type").asText());
            DType expected = DType.fromSafetensors(c.get("weights_dtype").asText(), "cases.json");
            for (TensorInfo t : ck.tensors().values()) {
                assertEquals(expected, t.dtype(), t.name());
                assertEquals(t.numel(), ck.readFloat32(t.name()).length, t.name());
            }
            for (JsonNode tied : c.get("omitted_tied_weights")) {
                assertFalse(ck.contains(tied.asText()), tied.asText());
            }
            assertEquals(Files.size(Paths.get(ck.shards().get(0).toUri())) - headerBytes(ck), ck.totalBytes());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rewritingAReferenceCheckpointReproducesHuggingFacesFile(JsonNode c) throws IOException {
        Path out = tmp.resolve(c.get("name").asText());
        try (HfCheckpoint ck = HfCheckpoint.open(folder(c), CONF)) {
            List<TensorSource> sources = new ArrayList<>();
            for (String name : ck.tensors().keySet()) {
                sources.add(TensorSource.copyOf(ck.readerFor(name), name));
            }
            HfCheckpointWriter.to(out.toString(), CONF).write(ck.config(), sources);
        }
        assertArrayEquals(Files.readAllBytes(Paths.get(folder(c), "model.safetensors")),
                Files.readAllBytes(out.resolve("model.safetensors")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void referenceArraysHaveTheListedShapesAndSurviveARewrite(JsonNode c) throws IOException {
        Path logits = referenceDir().resolve(c.get("outputs").get("logits").asText());
        NpyArray a = Npy.read(FileSystems.resolve(logits.toString()), CONF);
        assertEquals(DType.F32, a.dtype());
        long[] shape = new long[c.get("logits_shape").size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = c.get("logits_shape").get(i).asLong();
        }
        assertArrayEquals(shape, a.shape());
        float max = 0;
        for (float v : a.toFloats()) {
            max = Math.max(max, Math.abs(v));
        }
        assertEquals(c.get("max_abs_logit").floatValue(), max, 1e-6f);
        Path copy = tmp.resolve("copy.npy");
        Npy.write(FileSystems.resolve(copy.toString()), CONF, a);
        assertArrayEquals(Files.readAllBytes(logits), Files.readAllBytes(copy), "same bytes as numpy.save");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void inputArraysReadAsTheirDtype(JsonNode c) {
        JsonNode input = c.get("input");
        String key = input.fieldNames().next();
        NpyArray a = Npy.read(FileSystems.resolve(referenceDir().resolve(input.get(key).asText()).toString()), CONF);
        if (key.equals("input_ids")) {
            assertEquals(DType.I64, a.dtype());
            assertArrayEquals(new long[] {2, 16}, a.shape());
            int vocab = c.get("logits_shape").get(2).asInt();
            for (long id : a.toLongs()) {
                assertTrue(id >= 0 && id < vocab, "token id " + id);
            }
        } else {
            assertEquals(DType.F32, a.dtype());
            assertArrayEquals(new long[] {2, 3, 32, 32}, a.shape());
        }
    }

    private static long headerBytes(HfCheckpoint ck) throws IOException {
        byte[] first8 = new byte[8];
        try (var in = Files.newInputStream(Paths.get(ck.shards().get(0).toUri()))) {
            assertEquals(8, in.read(first8));
        }
        return 8 + java.nio.ByteBuffer.wrap(first8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    }
}
