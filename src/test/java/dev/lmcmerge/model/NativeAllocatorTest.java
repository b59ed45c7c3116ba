package dev.lmcmerge.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Reuse scopes lift malloc's thresholds only under the launchers' lean settings, count nested
 * uses, and restore at the outermost close.
 */
class NativeAllocatorTest {
    private static final Map<String, String> LEAN = Map.of("MALLOC_MMAP_THRESHOLD_", "1048576",
            "MALLOC_TRIM_THRESHOLD_", "1048576");

    @Test
    void libcIsReachableOnLinux() {
        assertTrue(NativeAllocator.available(), "glibc through JNA (CI runs on Linux)");
    }

    @Test
    void withoutTheLaunchersSettingsNothingChanges() {
        try (NativeAllocator.Scope s = NativeAllocator.reuse(Map.of())) {
            assertFalse(s.active());
            assertEquals(0, NativeAllocator.depth());
        }
    }

    @Test
    void settingsAlreadyAsGenerousAsReuseAreLeftAlone() {
        try (NativeAllocator.Scope s = NativeAllocator.reuse(Map.of("MALLOC_MMAP_THRESHOLD_", "33554432",
                "MALLOC_TRIM_THRESHOLD_", "1073741824"))) {
            assertFalse(s.active());
        }
    }

    @Test
    void nestedScopesRestoreOnlyWhenTheLastCloses() {
        try (NativeAllocator.Scope outer = NativeAllocator.reuse(LEAN)) {
            assertTrue(outer.active());
            assertEquals(1, NativeAllocator.depth());
            try (NativeAllocator.Scope inner = NativeAllocator.reuse(LEAN)) {
                assertEquals(2, NativeAllocator.depth());
            }
            assertEquals(1, NativeAllocator.depth());
        }
        assertEquals(0, NativeAllocator.depth());
    }

    @Test
    void closingTwiceCountsOnce() {
        NativeAllocator.Scope s = NativeAllocator.reuse(LEAN);
        s.close();
        s.close();
        assertEquals(0, NativeAllocator.depth());
    }

    @Test
    void memoryStillWorksInsideAndAfterAScope() {
        try (NativeAllocator.Scope s = NativeAllocator.reuse(LEAN);
             ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
            assertEquals(4096f * 1024, m.ones(new ai.djl.ndarray.types.Shape(4096, 1024)).sum().getFloat());
        }
        try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
            assertEquals(1024f, m.ones(new ai.djl.ndarray.types.Shape(1024)).sum().getFloat());
        }
    }
}
