package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.lmcmerge.config.ComputeConfig;
import dev.lmcmerge.io.FileSystems;
import dev.lmcmerge.symmetry.SlotGroup;
import dev.lmcmerge.symmetry.Transform;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Executors drop the cached forms later tasks no longer need, before they make anything else:
 * the stored forms after the naive curve, learning's starting forms after learning.
 */
class CachedFormsTest {
    @TempDir
    Path tmp;

    @Test
    void eachStageOfARunDropsTheFormsItNoLongerNeeds() {
        Configuration conf = new Configuration();
        TinyCheckpoints.write(tmp.resolve("a").toString(), TinyCheckpoints.CONFIG, 31, conf);
        TinyCheckpoints.write(tmp.resolve("b").toString(), TinyCheckpoints.CONFIG, 32, conf);
        List<String> groups = SlotGroup.all().stream().map(Enum::name).toList();
        JobContext all = new JobContext(FileSystems.resolve(tmp.resolve("a").toString()).toString(),
                FileSystems.resolve(tmp.resolve("b").toString()).toString(), "CAYLEY", groups,
                ComputeConfig.Device.CPU, 0, 64L << 20, 0L, Map.of(), "forms-test-" + System.nanoTime(),
                JobContext.Forms.ALL);
        ExecutorModelCache cache = ExecutorModelCache.get(all.effectiveCacheLimit());
        try (NDManager m = NDManager.newBaseManager()) {
            List<Map<String, FloatTensor>> chain = List.of(TransformParams.of(
                    Transform.random(ExecutorModels.info(all, "b").spec(), SlotGroup.all(), 7, m)));
            ExecutorModels.original(all, "b", m).close();
            ExecutorModels.form(all, "b", chain, m).close();
            String stored = ExecutorModels.originalKey(all, "b");
            String canonical = ExecutorModels.canonicalKey(all, "b");
            String start = ExecutorModels.transformedKey(all, "b", chain);
            assertTrue(cache.contains(stored) && cache.contains(canonical) && cache.contains(start));

            ExecutorModels.canonical(all.needing(JobContext.Forms.NOT_STORED), "b", m).close();
            assertFalse(cache.contains(stored), "the stored form is dropped after the naive curve");
            assertTrue(cache.contains(start), "learning's starting form stays while learning");

            ExecutorModels.canonical(all.needing(JobContext.Forms.CANONICAL), "b", m).close();
            assertFalse(cache.contains(start), "learning's starting form is dropped after learning");
            assertTrue(cache.contains(canonical));
        }
    }
}
