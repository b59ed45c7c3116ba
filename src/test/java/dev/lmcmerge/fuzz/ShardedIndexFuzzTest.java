package dev.lmcmerge.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.io.TensorInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Timeout;

/**
 * Any bytes as {@code model.safetensors.index.json} next to two valid shards (tensors a, b in
 * shard 1; c in shard 2), with a third safetensors file one folder up and another in a subfolder:
 * {@link HfCheckpoint#open} accepts the folder or refuses it with INVALID_INPUT naming it, and
 * whatever it accepts reads only files directly inside the folder.
 */
class ShardedIndexFuzzTest {
    static final String SHARD1 = "model-00001-of-00002.safetensors";
    static final String SHARD2 = "model-00002-of-00002.safetensors";
    private static final Path ROOT = FuzzFiles.scratch("index");
    private static final Path FOLDER = ROOT.resolve("model");

    static {
        try {
            Files.createDirectories(FOLDER.resolve("sub"));
            Map<String, long[]> one = new LinkedHashMap<>();
            one.put("a", new long[] {2});
            one.put("b", new long[] {1, 3});
            FuzzFiles.write(FOLDER.resolve(SHARD1), FuzzFiles.safetensors(one));
            FuzzFiles.write(FOLDER.resolve(SHARD2), FuzzFiles.safetensors(Map.of("c", new long[] {4})));
            FuzzFiles.write(FOLDER.resolve("config.json"), "{\"model_type\": \"gpt2\"}".getBytes());
            // Files an escaping index could name: they hold tensor 'a' so that reading them would pass.
            FuzzFiles.write(ROOT.resolve("outside.safetensors"), FuzzFiles.safetensors(Map.of("a", new long[] {2})));
            FuzzFiles.write(FOLDER.resolve("sub").resolve("inner.safetensors"),
                    FuzzFiles.safetensors(Map.of("a", new long[] {2})));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Timeout(10)
    @DictionaryEntries({"\"weight_map\"", "\"metadata\"", "\"total_size\"", "\"" + SHARD1 + "\"", "\"" + SHARD2 + "\"",
            "\"a\"", "\"b\"", "\"c\"", "..", "/", "\\\\", "file:", "sub/inner.safetensors", "../outside.safetensors",
            "\"config.json\"", "%2e%2e"})
    @FuzzTest(maxDuration = "30s")
    void shardedIndex(byte[] index) {
        FuzzFiles.write(FOLDER.resolve("model.safetensors.index.json"), index);
        FuzzFiles.rejectsOnlyAsDocumented(ShardedIndexFuzzTest::openAndRead, FOLDER.toString());
    }

    private static void openAndRead() {
        try (HfCheckpoint ckpt = HfCheckpoint.open(FOLDER.toString(), FuzzFiles.CONF)) {
            for (org.apache.hadoop.fs.Path shard : ckpt.shards()) {
                assertEquals(FOLDER.toUri().getPath().replaceAll("/$", ""), shard.getParent().toUri().getPath(),
                        "shard outside the checkpoint folder: " + shard);
            }
            for (TensorInfo t : ckpt.tensors().values()) {
                assertTrue(ckpt.shardOf(t.name()).getName().startsWith("model-0000"), t.toString());
                assertEquals(t.numel(), ckpt.readFloat32(t.name()).length, t.toString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
