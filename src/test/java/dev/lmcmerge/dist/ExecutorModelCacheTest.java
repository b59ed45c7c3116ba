package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.model.Weights;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The off-heap executor cache: one load per key, zero-copy views, eviction, and a clear error over the limit. */
class ExecutorModelCacheTest {
    /** 1024 floats = 4096 bytes. */
    private static final long BYTES = 4096;

    private static ExecutorModelCache.Loader model(float value, AtomicInteger loads) {
        return m -> {
            loads.incrementAndGet();
            float[] v = new float[1024];
            java.util.Arrays.fill(v, value);
            return new Weights(m, "test").put("w", m.create(v, new Shape(32, 32)));
        };
    }

    @Test
    void anEntryIsLoadedOnceAndViewedWithoutCopies() {
        ExecutorModelCache cache = new ExecutorModelCache(1 << 20);
        AtomicInteger loads = new AtomicInteger();
        try (NDManager m = NDManager.newBaseManager()) {
            try (ExecutorModelCache.Lease l1 = cache.acquire("k", BYTES, m, model(2f, loads));
                 ExecutorModelCache.Lease l2 = cache.acquire("k", BYTES, m, model(9f, loads))) {
                Weights v1 = l1.view(m);
                Weights v2 = l2.view(m);
                assertEquals(1, loads.get());
                assertEquals(2f, v2.get("w").getFloat(0, 0));
                // Both views wrap the same cached memory: a write through one is seen by the other.
                v1.get("w").set(new ai.djl.ndarray.index.NDIndex("0, 0"), 7f);
                assertEquals(7f, v2.get("w").getFloat(0, 0));
                assertArrayEquals(new long[] {32, 32}, v1.get("w").getShape().getShape());
            }
            assertEquals(BYTES, cache.allocatedBytes(), "counted against the limit");
        }
    }

    @Test
    void idleEntriesAreEvictedToMakeRoom() {
        ExecutorModelCache cache = new ExecutorModelCache(BYTES + 100);
        AtomicInteger loads = new AtomicInteger();
        try (NDManager m = NDManager.newBaseManager()) {
            cache.acquire("a", BYTES, m, model(1f, loads)).close();
            try (ExecutorModelCache.Lease b = cache.acquire("b", BYTES, m, model(2f, loads))) {
                assertFalse(cache.contains("a"));
                assertTrue(cache.contains("b"));
            }
        }
    }

    @Test
    void goingOverTheLimitNamesTheLimitAndWhatWasNeeded() {
        ExecutorModelCache cache = new ExecutorModelCache(BYTES + 100);
        AtomicInteger loads = new AtomicInteger();
        try (NDManager m = NDManager.newBaseManager();
             ExecutorModelCache.Lease inUse = cache.acquire("a", BYTES, m, model(1f, loads))) {
            LmcException e = assertThrows(LmcException.class, () -> cache.acquire("b", BYTES, m, model(2f, loads)));
            assertEquals(ExitCode.FAILURE, e.exitCode());
            assertTrue(e.getMessage().contains("lmc.compute.cache-size"), e.getMessage());
            assertTrue(e.getMessage().contains("(4096 bytes)"), e.getMessage());
            assertTrue(e.getMessage().contains("(" + (BYTES + 100) + " bytes)"), e.getMessage());
            assertEquals(1, loads.get(), "nothing was loaded for the entry that does not fit");
        }
    }

    @Test
    void jvmSizeOptionsParseWithTheirSuffixes() {
        assertEquals(64L << 30, ExecutorModelCache.parseJvmSize("64g"));
        assertEquals(512L << 20, ExecutorModelCache.parseJvmSize("512M"));
        assertEquals(12345L, ExecutorModelCache.parseJvmSize("12345"));
    }

    @Test
    void aCacheLargerThanTheJvmsDirectMemoryIsAUsageErrorNamingBothSettings() {
        LmcException e = org.junit.jupiter.api.Assertions.assertThrows(LmcException.class,
                () -> ExecutorModelCache.requireDirectMemory(16L << 30, 4L << 30));
        assertEquals(dev.lmcmerge.config.ExitCode.USAGE, e.exitCode());
        assertTrue(e.getMessage().contains("lmc.compute.cache-size") && e.getMessage().contains("MaxDirectMemorySize"),
                e.getMessage());
        ExecutorModelCache.requireDirectMemory(4L << 30, 4L << 30); // fits: no error
    }
}
