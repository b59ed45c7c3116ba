package dev.lmcmerge.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a model folder may make the reader open or allocate: only files directly inside the folder
 * (index names never leave it, symbolic links inside it are followed as the Hugging Face cache
 * needs), never a pickle, and no tensor or header above the configured caps.
 */
class CheckpointPathSafetyTest {
    private static final String SHARD1 = "model-00001-of-00002.safetensors";
    private static final String SHARD2 = "model-00002-of-00002.safetensors";
    private static final Configuration CONF = new Configuration();

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"../outside.safetensors", "..", ".", "", "/abs/outside.safetensors",
            "sub/inner.safetensors", "sub\\inner.safetensors", "file:/abs/outside.safetensors",
            "file:outside.safetensors", "hdfs://namenode:8020/outside.safetensors", "http://host/outside.safetensors",
            "s3a://bucket/outside.safetensors", "C:outside.safetensors", "model-00001\u0000.safetensors"})
    void indexFileNamesThatLeaveTheFolderAreRefusedBeforeAnythingIsOpened(String name) throws IOException {
        Path folder = shardedFolder();
        writeIndex(folder, "{\"a\": \"" + json(name) + "\", \"b\": \"" + SHARD2 + "\"}");

        LmcException e = assertThrows(LmcException.class, () -> HfCheckpoint.open(folder.toString(), CONF));

        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("model.safetensors.index.json")
                && e.getMessage().contains("expected a plain file name in the same folder"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"%2e%2e%2foutside.safetensors", "outside.safetensors", "~outside.safetensors"})
    void indexFileNamesThatAreNotInTheFolderAreRefusedAsMissing(String name) throws IOException {
        Path folder = shardedFolder();
        writeIndex(folder, "{\"a\": \"" + name + "\", \"b\": \"" + SHARD2 + "\"}");

        LmcException e = assertThrows(LmcException.class, () -> HfCheckpoint.open(folder.toString(), CONF));

        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("names shard '" + name + "'") && e.getMessage().contains("does not exist"),
                e.getMessage());
    }

    @Test
    void anIndexNamingASubfolderIsInvalidInputNotAnIoFailure() throws IOException {
        Path folder = shardedFolder();
        writeIndex(folder, "{\"a\": \"sub\", \"b\": \"" + SHARD2 + "\"}");

        LmcException e = assertThrows(LmcException.class, () -> HfCheckpoint.open(folder.toString(), CONF));

        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("names shard 'sub'") && e.getMessage().contains("is a folder"), e.getMessage());
    }

    @Test
    void aFolderNamedModelSafetensorsIsInvalidInput() throws IOException {
        Path folder = Files.createDirectories(tmp.resolve("m").resolve("model.safetensors")).getParent();
        Files.writeString(folder.resolve("config.json"), "{}");

        LmcException e = assertThrows(LmcException.class, () -> HfCheckpoint.open(folder.toString(), CONF));

        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("model.safetensors: is a folder; expected a file"), e.getMessage());
    }

    /**
     * The pickle is a named pipe: opening it for reading would block until a writer appears, so
     * the timeout proves that the reader never opens it.
     */
    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void aPickleOnlyFolderIsRefusedNamingThePickleWithoutOpeningIt() throws Exception {
        Path folder = Files.createDirectories(tmp.resolve("pickle"));
        Files.writeString(folder.resolve("config.json"), "{}");
        mkfifo(folder.resolve("pytorch_model.bin"));

        LmcException e = assertThrows(LmcException.class, () -> HfCheckpoint.open(folder.toString(), CONF));

        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("holds only pickle weights [pytorch_model.bin], which are never loaded"),
                e.getMessage());
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void aPickleNextToSafetensorsIsNeverOpened() throws Exception {
        Path folder = Files.createDirectories(tmp.resolve("both"));
        Files.writeString(folder.resolve("config.json"), "{}");
        Files.write(folder.resolve("model.safetensors"), safetensors(Map.of("w", 3)));
        mkfifo(folder.resolve("pytorch_model.bin"));

        try (HfCheckpoint c = HfCheckpoint.open(folder.toString(), CONF)) {
            assertArrayEquals(new float[] {0, 1, 2}, c.readFloat32("w"));
        }
    }

    /** The Hugging Face cache: snapshots/REV/FILE are relative links to ../../blobs/HASH. */
    @Test
    void aHuggingFaceCacheSnapshotOfSymbolicLinksOpensAndReads() throws IOException {
        Path repo = tmp.resolve("models--org--tiny");
        Path blobs = Files.createDirectories(repo.resolve("blobs"));
        Path snapshot = Files.createDirectories(repo.resolve("snapshots").resolve("0123abcd"));
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", "{\"model_type\": \"gpt2\"}".getBytes());
        files.put(SHARD1, safetensors(Map.of("a", 2)));
        files.put(SHARD2, safetensors(Map.of("b", 3)));
        files.put("model.safetensors.index.json", ("{\"metadata\": {}, \"weight_map\": {\"a\": \"" + SHARD1
                + "\", \"b\": \"" + SHARD2 + "\"}}").getBytes());
        files.put("tokenizer.json", "{}".getBytes());
        int i = 0;
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            String hash = "blob" + i++;
            Files.write(blobs.resolve(hash), f.getValue());
            Files.createSymbolicLink(snapshot.resolve(f.getKey()), Path.of("..", "..", "blobs", hash));
        }
        // refs/main -> the snapshot folder itself reached through a link, as tools that pin "latest" do
        Path latest = Files.createSymbolicLink(tmp.resolve("latest"), snapshot);

        for (Path folder : List.of(snapshot, latest)) {
            try (HfCheckpoint c = HfCheckpoint.open(folder.toString(), CONF)) {
                assertEquals(List.of("a", "b"), new ArrayList<>(c.tensors().keySet()));
                assertArrayEquals(new float[] {0, 1}, c.readFloat32("a"));
                assertArrayEquals(new float[] {0, 1, 2}, c.readFloat32("b"));
                assertEquals("gpt2", c.config().get("model_type").textValue());
                assertEquals(1, c.tokenizerFiles().size());
            }
        }
    }

    @Test
    void aTensorAboveTheConfiguredCapIsRefusedWhenTheFileIsOpened() throws IOException {
        Path file = tmp.resolve("model.safetensors");
        Files.write(file, safetensors(Map.of("small", 2, "big", 64)));
        Configuration capped = new Configuration(CONF);
        capped.setLong(SafetensorsReader.MAX_TENSOR_BYTES_KEY, 100);

        LmcException e = assertThrows(LmcException.class,
                () -> SafetensorsReader.open(FileSystems.resolve(file.toString()), capped));

        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("tensor 'big': 256 bytes exceed the limit of 100 bytes per tensor ("
                + SafetensorsReader.MAX_TENSOR_BYTES_KEY + ")"), e.getMessage());
        capped.setLong(SafetensorsReader.MAX_TENSOR_BYTES_KEY, 256);
        SafetensorsReader.open(FileSystems.resolve(file.toString()), capped).close();
    }

    @Test
    void aHeaderAboveTheConfiguredCapIsRefusedBeforeItIsRead() throws IOException {
        Path file = tmp.resolve("model.safetensors");
        byte[] bytes = safetensors(Map.of("w", 4));
        Files.write(file, bytes);
        long headerLength = bytes.length - 8 - 16;
        Configuration capped = new Configuration(CONF);
        capped.setLong(SafetensorsReader.MAX_HEADER_BYTES_KEY, headerLength - 1);

        LmcException e = assertThrows(LmcException.class,
                () -> SafetensorsReader.open(FileSystems.resolve(file.toString()), capped));

        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("header length " + headerLength + " exceeds the " + (headerLength - 1)
                + "-byte limit (" + SafetensorsReader.MAX_HEADER_BYTES_KEY + ")"), e.getMessage());
    }

    @Test
    void aDeclaredSizeBeyondTheFileIsRefusedWithoutAllocatingIt() throws IOException {
        // A header claiming an 8 GiB tensor in a 100-byte file: refused from the header alone.
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483648],\"data_offsets\":[0,8589934592]}}";
        Path file = tmp.resolve("model.safetensors");
        Files.write(file, concat(le(header.length()), header.getBytes(), new byte[16]));

        LmcException e = assertThrows(LmcException.class,
                () -> SafetensorsReader.open(FileSystems.resolve(file.toString()), CONF));

        assertTrue(e.getMessage().contains("reach past the end of the data section (16 bytes)"), e.getMessage());
    }

    private Path shardedFolder() throws IOException {
        Path folder = Files.createDirectories(tmp.resolve("model"));
        Files.createDirectories(folder.resolve("sub"));
        Files.writeString(folder.resolve("config.json"), "{}");
        Files.write(folder.resolve(SHARD1), safetensors(Map.of("a", 2)));
        Files.write(folder.resolve(SHARD2), safetensors(Map.of("b", 2)));
        // What an escaping name would reach if it were followed: valid files holding tensor 'a'.
        Files.write(tmp.resolve("outside.safetensors"), safetensors(Map.of("a", 2)));
        Files.write(folder.resolve("sub").resolve("inner.safetensors"), safetensors(Map.of("a", 2)));
        return folder;
    }

    private static void writeIndex(Path folder, String weightMap) throws IOException {
        Files.writeString(folder.resolve("model.safetensors.index.json"), "{\"weight_map\": " + weightMap + "}");
    }

    private static String json(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c == '\\' || c == '"') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static void mkfifo(Path p) throws Exception {
        Process proc = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
        assertEquals(0, proc.waitFor(), "mkfifo");
    }

    /** float32 tensors of the given element counts, values 0, 1, 2, ... in each. */
    static byte[] safetensors(Map<String, Integer> sizes) {
        List<TensorInfo> infos = new ArrayList<>();
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        long offset = 0;
        for (Map.Entry<String, Integer> e : new java.util.TreeMap<>(sizes).entrySet()) {
            TensorInfo t = TensorInfo.of(e.getKey(), DType.F32, new long[] {e.getValue()}).at(offset);
            infos.add(t);
            offset = t.end();
            for (int i = 0; i < e.getValue(); i++) {
                data.writeBytes(le4(Float.floatToIntBits(i)));
            }
        }
        byte[] header = SafetensorsHeader.encode(infos, Map.of("format", "pt"));
        return concat(le(header.length), header, data.toByteArray());
    }

    private static byte[] le(long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
        return b;
    }

    private static byte[] le4(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
