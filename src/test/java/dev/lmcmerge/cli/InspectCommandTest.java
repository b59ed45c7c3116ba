package dev.lmcmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.io.HfCheckpointWriter;
import dev.lmcmerge.io.TensorInfo;
import dev.lmcmerge.io.TensorSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path GPT_NEOX =
            Path.of(System.getProperty("lmc.shared.dir", "../shared"), "reference-cases/models/gpt_neox");

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    private static Result lmc(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    /** Sum of shape products over a safetensors header, read here without the io package. */
    private static long numelFromHeader(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            long n = ByteBuffer.wrap(in.readNBytes(8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
            JsonNode header = JSON.readTree(in.readNBytes((int) n));
            long total = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getKey().equals("__metadata__")) {
                    long p = 1;
                    for (JsonNode d : e.getValue().get("shape")) {
                        p *= d.asLong();
                    }
                    total += p;
                }
            }
            return total;
        }
    }

    @Test
    void printsFamilyAndParameterCountOfTheReferenceModel() throws IOException {
        long numel = numelFromHeader(GPT_NEOX.resolve("model.safetensors"));
        Result r = lmc("inspect", "--model", GPT_NEOX.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s).*family\\s+gpt_neox.*"), r.out());
        assertTrue(r.out().contains(String.format(java.util.Locale.ROOT, "%,d", numel)), r.out());
    }

    @Test
    void jsonIsOneObjectWithTheSameFacts() throws IOException {
        long numel = numelFromHeader(GPT_NEOX.resolve("model.safetensors"));
        Result r = lmc("inspect", "--model", GPT_NEOX.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode o = JSON.readTree(r.out());
        assertEquals("gpt_neox", o.get("family").asText());
        assertEquals(numel, o.get("parameters").asLong());
        assertEquals(Files.size(GPT_NEOX.resolve("model.safetensors")) - 8
                - headerLength(GPT_NEOX.resolve("model.safetensors")), o.get("total_bytes").asLong());
        assertEquals(1, o.get("shards").size());
    }

    private static long headerLength(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return ByteBuffer.wrap(in.readNBytes(8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }
    }

    @Test
    void countsDtypesShardsAndLeavesBuffersOutOfTheParameters() throws IOException {
        Configuration conf = new Configuration();
        Path out = dir.resolve("mixed");
        long weights = 0;
        int f16 = 0;
        int f32 = 0;
        try (HfCheckpoint ref = HfCheckpoint.open(GPT_NEOX.toString(), conf)) {
            List<TensorSource> tensors = new ArrayList<>();
            for (TensorInfo t : ref.tensors().values()) {
                DType d = t.name().contains(".mlp.") ? DType.F16 : DType.F32;
                tensors.add(TensorSource.ofFloats(t.name(), t.shape(), ref.readFloat32(t.name()), d));
                weights += t.numel();
                if (d == DType.F16) {
                    f16++;
                } else {
                    f32++;
                }
            }
            tensors.add(TensorSource.ofFloats("gpt_neox.layers.0.attention.masked_bias", new long[0],
                    new float[] {-1e9f}, DType.F32));
            f32++;
            HfCheckpointWriter.to(out.toString(), conf).maxShardBytes(200_000).write(ref.config(), tensors);
        }
        Result r = lmc("inspect", "--model", out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode o = JSON.readTree(r.out());
        assertEquals(weights, o.get("parameters").asLong());
        assertEquals(f16, o.get("dtypes").get("F16").get("tensors").asInt());
        assertEquals(f32, o.get("dtypes").get("F32").get("tensors").asInt());
        assertEquals("gpt_neox.layers.0.attention.masked_bias", o.get("buffers").get(0).asText());
        assertTrue(o.get("shards").size() > 1, r.out());
    }

    @Test
    void missingFolderIsInvalidInputOnOneLine() {
        Result r = lmc("inspect", "--model", dir.resolve("nothing-here").toString());
        assertEquals(3, r.code());
        assertTrue(r.err().startsWith("lmc: error: ") && r.err().strip().lines().count() == 1, r.err());
        assertTrue(r.err().contains("nothing-here"), r.err());
    }

    @Test
    void folderWithoutWeightsIsInvalidInput() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"gpt_neox\"}");
        Result r = lmc("inspect", "--model", dir.toString());
        assertEquals(3, r.code(), r.err());
        assertTrue(r.err().startsWith("lmc: error: "), r.err());
    }
}
