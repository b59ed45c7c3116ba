package dev.lmcmerge.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.HfCheckpointWriter;
import dev.lmcmerge.io.Npy;
import dev.lmcmerge.io.NpyArray;
import dev.lmcmerge.io.TensorSource;
import dev.lmcmerge.model.Architectures;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.TensorSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;

/**
 * Writes the tiny models, data files and job files of the CLI bad-input tests (not a test
 * class): a 2-layer gpt_neox with a byte-level vocabulary as the good model, variants of its
 * config.json (other family, width, heads, vocabulary, FFN), and damaged copies of its
 * safetensors file.
 */
final class BadInputs {
    static final ObjectMapper JSON = new ObjectMapper();

    /** The good model: gpt_neox, hidden 16, 4 heads, 2 layers, byte-level vocabulary. */
    static final String NEOX = """
            {"model_type": "gpt_neox", "hidden_size": 16, "num_attention_heads": 4, "num_hidden_layers": 2,
             "intermediate_size": 32, "vocab_size": 256, "rotary_pct": 0.5, "rotary_emb_base": 10000,
             "layer_norm_eps": 1e-5, "use_parallel_residual": true, "tie_word_embeddings": false,
             "max_position_embeddings": 64, "hidden_act": "gelu"}""";

    static final String LLAMA = """
            {"model_type": "llama", "hidden_size": 16, "num_attention_heads": 4, "num_key_value_heads": 2,
             "num_hidden_layers": 2, "intermediate_size": 32, "vocab_size": 256, "rms_norm_eps": 1e-5,
             "rope_theta": 10000.0, "tie_word_embeddings": false, "max_position_embeddings": 64,
             "hidden_act": "silu"}""";

    static final String VIT = """
            {"model_type": "vit", "hidden_size": 16, "num_attention_heads": 4, "num_hidden_layers": 1,
             "intermediate_size": 32, "image_size": 8, "patch_size": 4, "num_channels": 3, "qkv_bias": true,
             "layer_norm_eps": 1e-12, "hidden_act": "gelu", "id2label": {"0": "a", "1": "b"},
             "label2id": {"a": 0, "b": 1}}""";

    private BadInputs() {}

    /** {@link #NEOX} with {@code edit} applied to its JSON. */
    static String neoxWith(Consumer<ObjectNode> edit) {
        ObjectNode n = (ObjectNode) json(NEOX);
        edit.accept(n);
        return n.toString();
    }

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A model of {@code configJson} with random weights from {@code seed}. */
    static Path model(Path dir, String configJson, long seed) {
        return model(dir, configJson, seed, Set.of(), 0f);
    }

    /**
     * A model of {@code configJson} without the tensors in {@code omit}; a {@code poison} other
     * than 0 (NaN, infinity) is stored in the middle of the last weight tensor.
     */
    static Path model(Path dir, String configJson, long seed, Set<String> omit, float poison) {
        JsonNode cfg = json(configJson);
        Random rng = new Random(seed);
        List<TensorSource> sources = new ArrayList<>();
        List<TensorSpec> specs = Architectures.of(ModelConfig.parse(cfg, "tiny")).tensors();
        for (int k = 0; k < specs.size(); k++) {
            TensorSpec t = specs.get(k);
            if (t.tied() || omit.contains(t.name())) {
                continue;
            }
            float[] v = new float[(int) t.numel()];
            boolean normWeight = t.role() == TensorSpec.Role.NORM && t.name().endsWith("weight");
            for (int i = 0; i < v.length; i++) {
                v[i] = normWeight ? 1f : (float) (0.2 * rng.nextGaussian());
            }
            if (poison != 0f && k == specs.size() - 1) {
                v[v.length / 2] = poison;
            }
            sources.add(TensorSource.ofFloats(t.name(), t.shape(), v, DType.F32));
        }
        HfCheckpointWriter.to(dir.toString(), new Configuration()).write(cfg, sources);
        return dir;
    }

    /** A copy of the files of {@code from} (a flat model folder) in {@code to}. */
    static Path copy(Path from, Path to) {
        try {
            Files.createDirectories(to);
            try (var files = Files.list(from)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.copy(f, to.resolve(f.getFileName()));
                }
            }
            return to;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A copy of {@code from} whose model.safetensors is cut {@code bytes} short. */
    static Path truncated(Path from, Path to, int bytes) throws IOException {
        copy(from, to);
        Path st = to.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(st);
        Files.write(st, java.util.Arrays.copyOf(all, all.length - bytes));
        return to;
    }

    /** A copy of {@code from} whose model.safetensors is replaced by {@code content}. */
    static Path withSafetensors(Path from, Path to, byte[] content) throws IOException {
        copy(from, to);
        Files.write(to.resolve("model.safetensors"), content);
        return to;
    }

    /** A copy of {@code from} whose config.json is {@code text}. */
    static Path withConfig(Path from, Path to, String text) throws IOException {
        copy(from, to);
        Files.writeString(to.resolve("config.json"), text);
        return to;
    }

    /**
     * A copy of {@code from} whose safetensors header moves {@code tensor}'s data_offsets by
     * {@code beginShift} and {@code endShift} bytes (the data section itself is unchanged).
     */
    static Path lyingHeader(Path from, Path to, String tensor, long beginShift, long endShift) throws IOException {
        copy(from, to);
        Path st = to.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(st);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectNode header = (ObjectNode) JSON.readTree(new String(all, 8, (int) n, StandardCharsets.UTF_8));
        ObjectNode t = (ObjectNode) header.get(tensor);
        if (t == null) {
            throw new IllegalArgumentException("no tensor " + tensor);
        }
        var offsets = JSON.createArrayNode();
        offsets.add(t.get("data_offsets").get(0).asLong() + beginShift);
        offsets.add(t.get("data_offsets").get(1).asLong() + endShift);
        t.set("data_offsets", offsets);
        byte[] h = JSON.writeValueAsBytes(header);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, h.length).array());
        out.write(h);
        out.write(all, (int) (8 + n), (int) (all.length - 8 - n));
        Files.write(st, out.toByteArray());
        return to;
    }

    /** The name of the tensor whose data comes last in {@code folder}'s model.safetensors. */
    static String lastTensor(Path folder) throws IOException {
        byte[] all = Files.readAllBytes(folder.resolve("model.safetensors"));
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonNode header = JSON.readTree(new String(all, 8, (int) n, StandardCharsets.UTF_8));
        String last = null;
        long end = -1;
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().equals("__metadata__") && e.getValue().get("data_offsets").get(1).asLong() > end) {
                end = e.getValue().get("data_offsets").get(1).asLong();
                last = e.getKey();
            }
        }
        return last;
    }

    /** Deterministic lower-case text of {@code bytes} bytes. */
    static Path text(Path file, int bytes) throws IOException {
        StringBuilder s = new StringBuilder();
        Random rng = new Random(4);
        while (s.length() < bytes) {
            s.append((char) ('a' + rng.nextInt(26))).append(rng.nextInt(5) == 0 ? " " : "");
        }
        Files.createDirectories(file.getParent());
        Files.writeString(file, s.substring(0, bytes));
        return file;
    }

    /** An .npy of int64 token ids of {@code shape}, filled from {@code values} cyclically. */
    static Path npyTokens(Path file, long[] shape, long... values) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            v[i] = values[i % values.length];
        }
        Npy.write(new org.apache.hadoop.fs.Path(file.toUri()), new Configuration(), NpyArray.ofLongs(shape, v));
        return file;
    }

    /** An .npy of float32 values of {@code shape}. */
    static Path npyFloats(Path file, long[] shape) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        Npy.write(new org.apache.hadoop.fs.Path(file.toUri()), new Configuration(),
                NpyArray.ofFloats(shape, new float[n]));
        return file;
    }

    /** A Parquet file whose {@code input_ids} column holds strings instead of lists of integers. */
    static Path parquetStringIds(Path file) throws IOException {
        MessageType schema = MessageTypeParser.parseMessageType("message m { optional binary input_ids (STRING); }");
        try (ParquetWriter<Group> w = parquet(file, schema)) {
            SimpleGroupFactory f = new SimpleGroupFactory(schema);
            for (int i = 0; i < 4; i++) {
                w.write(f.newGroup().append("input_ids", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17"));
            }
        }
        return file;
    }

    /** A Parquet file with a {@code text} column and no {@code input_ids}. */
    static Path parquetWithoutIds(Path file) throws IOException {
        MessageType schema = MessageTypeParser.parseMessageType("message m { optional binary text (STRING); }");
        try (ParquetWriter<Group> w = parquet(file, schema)) {
            w.write(new SimpleGroupFactory(schema).newGroup().append("text", "hello"));
        }
        return file;
    }

    private static ParquetWriter<Group> parquet(Path file, MessageType schema) throws IOException {
        Configuration conf = new Configuration();
        return ExampleParquetWriter.builder(HadoopOutputFile.fromPath(new org.apache.hadoop.fs.Path(file.toUri()), conf))
                .withType(schema).withConf(conf).build();
    }

    /** A Parquet image dataset whose image bytes are not an image. */
    static Path undecodableImages(Path file) throws IOException {
        byte[] junk = "this is not a PNG".getBytes(StandardCharsets.US_ASCII);
        dev.lmcmerge.data.TestImages.write(file, List.of(junk, junk), new long[] {0, 1});
        return file;
    }

    /** The job file of the merge cases: models, data and the settings that make a run tiny. */
    static Path jobFile(Path file, Path a, Path b, Path data) throws IOException {
        Files.writeString(file, """
                lmc {
                  model-a = "%s"
                  model-b = "%s"
                  data { eval = "%s", seq-len = 16, batch-size = 4 }
                  align { methods = [naive], steps = 1 }
                  eval { alphas = 3, max-batches = 1 }
                  output { merged-alphas = [], run-id = r1 }
                }
                """.formatted(a, b, data));
        return file;
    }
}
