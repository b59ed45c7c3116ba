package dev.lmcmerge.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;

/**
 * Write-then-read behaviour every file system must show. Subclasses say where files go
 * (the local disk, a MiniDFSCluster).
 */
abstract class RoundTripContract {

    /** A fresh, empty folder for one test. */
    abstract Path newFolder() throws IOException;

    abstract Configuration conf();

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long[] MATRIX = {3, 5};

    /** Values that each 16-bit format represents exactly, so round trips compare bit for bit. */
    static float[] exactIn16Bits(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (r.nextInt(255) - 127) / 64f; // 8 significant bits at most
        }
        return v;
    }

    static List<TensorSource> mixedTensors() {
        List<TensorSource> out = new ArrayList<>();
        out.add(TensorSource.ofFloats("layer.f32", MATRIX, exactIn16Bits(15, 1), DType.F32));
        out.add(TensorSource.ofFloats("layer.f16", MATRIX, exactIn16Bits(15, 2), DType.F16));
        out.add(TensorSource.ofFloats("layer.bf16", MATRIX, exactIn16Bits(15, 3), DType.BF16));
        out.add(TensorSource.ofLongs("position_ids", new long[] {1, 7}, new long[] {0, 1, 2, 3, 4, 5, -6}));
        out.add(TensorSource.ofFloats("scalar", new long[0], new float[] {2.5f}, DType.F32));
        return out;
    }

    static JsonNode config() throws IOException {
        return JSON.readTree("{\"model_type\":\"gpt2\",\"n_layer\":1,\"layer_norm_epsilon\":1e-05}");
    }

    private void assertMixedTensorsRead(HfCheckpoint ck) {
        assertEquals(5, ck.tensors().size());
        assertArrayEquals(exactIn16Bits(15, 1), ck.readFloat32("layer.f32"));
        assertArrayEquals(exactIn16Bits(15, 2), ck.readFloat32("layer.f16"));
        assertArrayEquals(exactIn16Bits(15, 3), ck.readFloat32("layer.bf16"));
        assertEquals(DType.F16, ck.tensors().get("layer.f16").dtype());
        assertEquals(DType.BF16, ck.tensors().get("layer.bf16").dtype());
        assertArrayEquals(MATRIX, ck.tensors().get("layer.bf16").shape());
        ByteBuffer ids = ck.read("position_ids");
        assertEquals(ByteOrder.LITTLE_ENDIAN, ids.order());
        long[] got = new long[7];
        ids.asLongBuffer().get(got);
        assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, -6}, got);
        assertArrayEquals(new float[] {2.5f}, ck.readFloat32("scalar"));
        assertEquals(15 * 4 + 15 * 2 + 15 * 2 + 7 * 8 + 4, ck.totalBytes());
    }

    @Test
    void singleFileRoundTripKeepsEveryDtypeAndValue() throws IOException {
        Path dir = new Path(newFolder(), "model");
        ShardPlan plan = HfCheckpointWriter.to(dir, conf()).write(config(), mixedTensors());
        assertFalse(plan.sharded());
        try (HfCheckpoint ck = HfCheckpoint.open(dir.toString(), conf())) {
            assertEquals(List.of(ShardPlan.SINGLE_FILE), ck.shards().stream().map(Path::getName).toList());
            assertEquals("gpt2", ck.config().get("model_type").asText());
            assertMixedTensorsRead(ck);
        }
        assertFalse(exists(new Path(dir, ShardPlan.INDEX_FILE)));
    }

    @Test
    void shardedRoundTripSplitsByMaxShardSizeAndWritesTheIndex() throws IOException {
        Path dir = new Path(newFolder(), "model");
        // 60, 30, 30, 56 and 4 bytes with at most 40 per shard, filled as huggingface_hub does: a tensor
        // over the limit gets its own shard at once, so the scalar joins the open bf16 shard after it.
        ShardPlan plan = HfCheckpointWriter.to(dir, conf()).maxShardBytes(40).write(config(), mixedTensors());
        assertEquals(4, plan.shards().size());
        try (HfCheckpoint ck = HfCheckpoint.open(dir.toString(), conf())) {
            assertEquals(List.of("model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
                    "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors"),
                    ck.shards().stream().map(Path::getName).toList());
            assertMixedTensorsRead(ck);
            assertEquals("model-00003-of-00004.safetensors", ck.shardOf("position_ids").getName());
            assertEquals("model-00004-of-00004.safetensors", ck.shardOf("layer.bf16").getName());
            assertEquals("model-00004-of-00004.safetensors", ck.shardOf("scalar").getName());
        }
        JsonNode index = JSON.readTree(readText(new Path(dir, ShardPlan.INDEX_FILE)));
        assertEquals(15 * 4 + 15 * 2 + 15 * 2 + 7 * 8 + 4, index.get("metadata").get("total_size").asLong());
        List<String> keys = new ArrayList<>();
        index.get("weight_map").fieldNames().forEachRemaining(keys::add);
        List<String> sorted = new ArrayList<>(keys);
        sorted.sort(null);
        assertEquals(sorted, keys, "weight_map keys sorted as transformers writes them");
        assertEquals("model-00001-of-00004.safetensors", index.get("weight_map").get("layer.f32").asText());
    }

    @Test
    void writtenFileHasPtMetadataAndA8ByteAlignedHeader() throws IOException {
        Path file = new Path(newFolder(), "t.safetensors");
        SafetensorsWriter.write(file, conf(), mixedTensors());
        try (SafetensorsReader r = SafetensorsReader.open(file, conf());
             InputStream in = FileSystems.fs(file, conf()).open(file)) {
            assertEquals("pt", r.metadata().get("format"));
            byte[] len = in.readNBytes(8);
            long n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, n % 8);
            assertEquals(List.of("layer.f32", "layer.f16", "layer.bf16", "position_ids", "scalar"),
                    new ArrayList<>(r.tensors().keySet()), "plain writer keeps the given order");
        }
    }

    @Test
    void checkpointFilesAreOrderedLikeTheSafetensorsLibrary() throws IOException {
        Path dir = new Path(newFolder(), "model");
        HfCheckpointWriter.to(dir, conf()).write(config(), mixedTensors());
        try (SafetensorsReader r = SafetensorsReader.open(new Path(dir, ShardPlan.SINGLE_FILE), conf())) {
            // Larger dtypes first, then by name: I64, F32 (layer.f32, scalar), BF16, F16.
            assertEquals(List.of("position_ids", "layer.f32", "scalar", "layer.bf16", "layer.f16"),
                    new ArrayList<>(r.tensors().keySet()));
        }
    }

    @Test
    void tokenizerFilesAreCopiedAndListed() throws IOException {
        Path src = newFolder();
        Path tok = new Path(src, "tokenizer.json");
        writeText(tok, "{\"version\":\"1.0\"}");
        Path dir = new Path(src, "model");
        HfCheckpointWriter.to(dir, conf()).tokenizerFiles(List.of(tok)).write(config(), mixedTensors());
        try (HfCheckpoint ck = HfCheckpoint.open(dir.toString(), conf())) {
            assertEquals(List.of("tokenizer.json"), ck.tokenizerFiles().stream().map(Path::getName).toList());
            assertEquals("{\"version\":\"1.0\"}", readText(ck.tokenizerFiles().get(0)));
        }
    }

    @Test
    void writingOverAnExistingFolderNeedsOverwrite() throws IOException {
        Path dir = new Path(newFolder(), "model");
        HfCheckpointWriter.to(dir, conf()).write(config(), mixedTensors());
        LmcException e = assertThrows(LmcException.class,
                () -> HfCheckpointWriter.to(dir, conf()).write(config(), mixedTensors()));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
        HfCheckpointWriter.to(dir, conf()).overwrite(true).maxShardBytes(40).write(config(), mixedTensors());
        try (HfCheckpoint ck = HfCheckpoint.open(dir.toString(), conf())) {
            assertEquals(4, ck.shards().size());
        }
    }

    @Test
    void aFailedWriteLeavesNothingThatLooksLikeACheckpoint() throws IOException {
        Path parent = newFolder();
        Path dir = new Path(parent, "model");
        List<TensorSource> tensors = new ArrayList<>(mixedTensors());
        tensors.add(new TensorSource() {
            @Override
            public TensorInfo info() {
                return TensorInfo.of("broken", DType.F32, new long[] {4});
            }

            @Override
            public void writeTo(OutputStream out) throws IOException {
                out.write(new byte[3]);
                throw new IOException("source failed");
            }
        });
        assertThrows(LmcException.class, () -> HfCheckpointWriter.to(dir, conf()).write(config(), tensors));
        assertFalse(exists(dir));
        FileStatus[] left = FileSystems.fs(parent, conf()).listStatus(parent);
        assertEquals(0, left.length, "staging folder removed: " + Arrays.toString(left));
    }

    @Test
    void aSourceWritingTheWrongByteCountIsCaught() throws IOException {
        Path file = new Path(newFolder(), "t.safetensors");
        TensorSource shortSource = TensorSource.of("w", DType.F32, new long[] {4}, () -> ByteBuffer.allocate(12));
        LmcException e = assertThrows(LmcException.class,
                () -> SafetensorsWriter.write(file, conf(), List.of(shortSource)));
        assertEquals(ExitCode.FAILURE, e.exitCode());
        assertTrue(e.getMessage().contains("wrote 12 bytes; expected 16"), e.getMessage());
    }

    @Test
    void copyOfStreamsATensorUnchangedIntoANewFile() throws IOException {
        Path a = new Path(newFolder(), "a.safetensors");
        Path b = new Path(a.getParent(), "b.safetensors");
        SafetensorsWriter.write(a, conf(), mixedTensors());
        try (SafetensorsReader ra = SafetensorsReader.open(a, conf())) {
            SafetensorsWriter.write(b, conf(), List.of(TensorSource.copyOf(ra, "layer.bf16", "renamed")));
            try (SafetensorsReader rb = SafetensorsReader.open(b, conf())) {
                assertEquals(ra.read("layer.bf16"), rb.read("renamed"));
                assertEquals(DType.BF16, rb.info("renamed").dtype());
            }
        }
    }

    @Test
    void readingAnIntegerTensorAsFloatIsRefused() throws IOException {
        Path file = new Path(newFolder(), "t.safetensors");
        SafetensorsWriter.write(file, conf(), mixedTensors());
        try (SafetensorsReader r = SafetensorsReader.open(file, conf())) {
            LmcException e = assertThrows(LmcException.class, () -> r.readFloat32("position_ids"));
            assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
            assertTrue(e.getMessage().contains("position_ids") && e.getMessage().contains("integer"), e.getMessage());
        }
    }

    @Test
    void npyRoundTripsThroughTheFileSystem() throws IOException {
        Path file = new Path(newFolder(), "a.npy");
        NpyArray a = NpyArray.ofFloats(new long[] {2, 2}, new float[] {1, -2, 3.5f, 0});
        Npy.write(file, conf(), a);
        assertEquals(a, Npy.read(file, conf()));
    }

    boolean exists(Path p) throws IOException {
        return FileSystems.fs(p, conf()).exists(p);
    }

    String readText(Path p) throws IOException {
        try (InputStream in = FileSystems.fs(p, conf()).open(p)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    void writeText(Path p, String text) throws IOException {
        FileSystem fs = FileSystems.fs(p, conf());
        try (OutputStream out = fs.create(p, true)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }
}
