package dev.lmcmerge.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.LmcException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every malformed checkpoint is refused when opened, with exit code 3 and a message that names
 * the file at fault and says what is wrong.
 */
class MalformedCheckpointTest {
    @TempDir
    Path tmp;

    /** Builds a bad input under a fresh folder and returns the location to open. */
    interface Setup {
        String create(Path dir) throws IOException;
    }

    private static final String A8 = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
    private static final String SHARD1 = "model-00001-of-00002.safetensors";
    private static final String SHARD2 = "model-00002-of-00002.safetensors";

    static Stream<Arguments> cases() {
        return Stream.of(
                bad("truncated file", d -> model(d, new byte[5]),
                        "model.safetensors", "file is 5 bytes; a safetensors file starts with an 8-byte header length"),
                bad("header longer than file", d -> model(d, concat(le(1000), bytes("{}"))),
                        "model.safetensors", "header length 1000 is longer than the file (10 bytes)"),
                bad("header over 100 MB", d -> model(d, concat(le(200_000_000L), new byte[16])),
                        "model.safetensors", "exceeds the 100 MB limit"),
                bad("header not JSON", d -> single(d, "{a: nope}", 0),
                        "model.safetensors", "header is not valid JSON"),
                bad("header a JSON array", d -> single(d, "[1, 2]", 0),
                        "model.safetensors", "header is a JSON array; expected a JSON object"),
                bad("duplicate tensor name in header", d -> single(d, "{" + A8 + "," + A8 + "}", 8),
                        "model.safetensors", "Duplicate field 'a'"),
                bad("overlapping offsets", d -> single(d, "{" + A8
                                + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12),
                        "tensor 'b'", "overlap tensor 'a' [0, 8]"),
                bad("hole between tensors", d -> single(d, "{" + A8
                                + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20),
                        "tensor 'b'", "hole of 4 bytes before it"),
                bad("offset past end", d -> single(d, "{" + A8 + "}", 4),
                        "tensor 'a'", "reach past the end of the data section (4 bytes)"),
                bad("bytes after the last tensor", d -> single(d, "{" + A8 + "}", 12),
                        "model.safetensors", "file length does not match the header"),
                bad("shape and size mismatch",
                        d -> single(d, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8),
                        "tensor 'a'", "needs 12 bytes but data_offsets [0, 8] span 8"),
                bad("unknown dtype",
                        d -> single(d, "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[8],\"data_offsets\":[0,8]}}", 8),
                        "tensor 'a'", "unsupported dtype \"F8_E4M3\""),
                bad("negative dimension",
                        d -> single(d, "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8),
                        "tensor 'a'", "negative dimension"),
                bad("shape overflowing 64 bits", d -> single(d, "{\"a\":{\"dtype\":\"F32\","
                                + "\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}", 8),
                        "tensor 'a'", "overflows"),
                bad("malformed data_offsets",
                        d -> single(d, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8]}}", 8),
                        "tensor 'a'", "expected [begin, end] as two integers"),
                bad("metadata value not a string",
                        d -> single(d, "{\"__metadata__\":{\"format\":1}," + A8 + "}", 8),
                        "model.safetensors", "__metadata__ value of \"format\" is not a string"),
                bad("index naming a missing shard", d -> indexed(d,
                                "{\"a\":\"" + SHARD1 + "\",\"b\":\"" + SHARD2 + "\"}", "a", null),
                        "model.safetensors.index.json", "names shard '" + SHARD2 + "' (for tensor 'b'), which does not exist"),
                bad("index with ../ in a file name", d -> indexed(d,
                                "{\"a\":\"../other/" + SHARD1 + "\"}", "a", null),
                        "model.safetensors.index.json", "is \"../other/" + SHARD1 + "\"; expected a plain file name"),
                bad("index without weight_map", d -> indexed(d, null, "a", null),
                        "model.safetensors.index.json", "has no \"weight_map\" object"),
                bad("tensor missing from its shard", d -> indexed(d,
                                "{\"a\":\"" + SHARD1 + "\",\"b\":\"" + SHARD1 + "\"}", "a", null),
                        "model.safetensors.index.json", "lists tensor 'b' in shard '" + SHARD1
                                + "', but that shard does not hold it"),
                bad("extra tensor in a shard", d -> indexed(d, "{\"a\":\"" + SHARD1 + "\"}", "a,b", null),
                        SHARD1, "holds tensor 'b', which model.safetensors.index.json does not list"),
                bad("duplicate tensor across shards", d -> indexed(d,
                                "{\"a\":\"" + SHARD1 + "\",\"b\":\"" + SHARD2 + "\"}", "a", "a,b"),
                        "model.safetensors.index.json", "tensor 'a' is in two shards"),
                bad("pickle-only folder", d -> {
                    config(d);
                    Files.write(d.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
                    return d.toString();
                }, "pytorch_model.bin", "are never loaded (unpickling can run arbitrary code); expected model.safetensors. "
                        + "Convert once with: python -c \"from transformers import AutoModelForCausalLM as M; M.from_pretrained("),
                bad("folder without weights", d -> {
                    config(d);
                    return d.toString();
                }, d(), "holds neither model.safetensors nor model.safetensors.index.json"),
                bad("folder missing config.json", d -> {
                    SafetensorsWriter.write(FileSystems.resolve(d.resolve("model.safetensors").toString()),
                            new Configuration(), tensors("a"));
                    return d.toString();
                }, "config.json", "missing; a Hugging Face model folder needs config.json"),
                bad("config.json not JSON", d -> {
                    single(d, "{" + A8 + "}", 8);
                    Files.writeString(d.resolve("config.json"), "{\"model_type\": gpt2}");
                    return d.toString();
                }, "config.json", "config.json is not valid JSON"),
                bad("path that does not exist", d -> d.resolve("no-such-model").toString(),
                        "no-such-model", "model folder does not exist"),
                bad("a file instead of a folder", d -> {
                    Path f = d.resolve("model.safetensors");
                    Files.write(f, new byte[8]);
                    return f.toString();
                }, "model.safetensors", "is a file; expected a Hugging Face model folder"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void malformedInputIsRefusedWithExitCode3AndItsOwnMessage(String name, Setup setup, String file, String fragment)
            throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("case"));
        String location = setup.create(dir);
        LmcException e = assertThrows(LmcException.class, () -> HfCheckpoint.open(location, new Configuration()).close());
        assertEquals(3, e.exitCode().code(), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), () -> "expected \"" + fragment + "\" in: " + e.getMessage());
        String at = file.equals(d()) ? dir.getFileName().toString() : file;
        assertTrue(e.getMessage().contains(at), () -> "expected the message to name " + at + ": " + e.getMessage());
    }

    // ---- builders -------------------------------------------------------------------------

    private static Arguments bad(String name, Setup setup, String file, String fragment) {
        return Arguments.of(name, setup, file, fragment);
    }

    /** Marker: the message should name the folder itself. */
    private static String d() {
        return "<folder>";
    }

    private static void config(Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"gpt2\"}");
    }

    /** A folder with config.json and model.safetensors holding exactly {@code content}. */
    private static String model(Path dir, byte[] content) throws IOException {
        config(dir);
        Files.write(dir.resolve("model.safetensors"), content);
        return dir.toString();
    }

    /** A folder whose model.safetensors has this header (unpadded) and {@code dataBytes} zero bytes of data. */
    private static String single(Path dir, String header, int dataBytes) throws IOException {
        byte[] h = bytes(header);
        return model(dir, concat(le(h.length), h, new byte[dataBytes]));
    }

    /**
     * A sharded folder: shard 1 holds {@code shard1} (comma-separated F32[2] tensors), shard 2
     * {@code shard2} if not null, and the index has this weight_map (none if null).
     */
    private static String indexed(Path dir, String weightMap, String shard1, String shard2) throws IOException {
        config(dir);
        Configuration conf = new Configuration();
        SafetensorsWriter.write(FileSystems.resolve(dir.resolve(SHARD1).toString()), conf, tensors(shard1.split(",")));
        if (shard2 != null) {
            SafetensorsWriter.write(FileSystems.resolve(dir.resolve(SHARD2).toString()), conf, tensors(shard2.split(",")));
        }
        String index = "{\"metadata\": {\"total_size\": 8}" + (weightMap == null ? "" : ", \"weight_map\": " + weightMap) + "}";
        Files.writeString(dir.resolve(ShardPlan.INDEX_FILE), index);
        return dir.toString();
    }

    private static List<TensorSource> tensors(String... names) {
        return Stream.of(names)
                .map(n -> TensorSource.ofFloats(n, new long[] {2}, new float[] {1, 2}, DType.F32))
                .toList();
    }

    private static byte[] le(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v).array();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }
}
