package dev.lmcmerge.model;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * glibc malloc settings for work that makes and frees many weight-sized tensors in a row (a
 * learned step). The launchers run every JVM with {@code MALLOC_MMAP_THRESHOLD_} and
 * {@code MALLOC_TRIM_THRESHOLD_} of 1 MiB so freed libtorch tensors go back to the system at
 * once (the 1B merge fits in 20 GiB because of it, docs/benchmarks.md). The price is that every
 * new tensor over 1 MiB is fresh memory whose pages fault in on first touch: measured at the
 * Pythia-160M shape, a one-graph step took 8.2 s that way against 3.4 s with glibc's defaults.
 * {@link #reuse} lifts both thresholds (32 MiB, the most glibc allows for mmap, and 512 MiB) for the
 * duration of such work, so its temporaries reuse freed memory, then restores the launcher's
 * values and, a few seconds later unless another such scope began, returns free memory with
 * {@code malloc_trim(0)}.
 *
 * <p>Written against libc through JNA (already on the classpath with DJL) because no Java API sets
 * malloc's parameters. Without the launcher's settings in the environment (glibc's own adaptive
 * defaults), or without glibc, it does nothing. Nested and concurrent uses count: the last to end
 * restores.
 */
public final class NativeAllocator {
    private static final int M_TRIM_THRESHOLD = -1;
    private static final int M_MMAP_THRESHOLD = -3;
    static final int REUSE_MMAP_THRESHOLD = 32 << 20;
    static final int REUSE_TRIM_THRESHOLD = 512 << 20;

    /** The part of libc used here. */
    interface LibC extends Library {
        int mallopt(int param, int value);

        int malloc_trim(long pad);
    }

    /** How long freed memory stays for the next scope before it goes back to the system. */
    static final long TRIM_AFTER_MS = 5000;

    private static final LibC LIBC = load();
    private static final Object LOCK = new Object();
    private static int depth;
    private static long generation;
    private static final ScheduledExecutorService TRIMMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lmc-malloc-trim");
        t.setDaemon(true);
        return t;
    });

    private NativeAllocator() {
    }

    private static LibC load() {
        try {
            return Native.load("c", LibC.class);
        } catch (Throwable t) { // not glibc, or JNA cannot load: keep the process' settings
            return null;
        }
    }

    /** A scope in which freed native memory is kept for reuse; close it to return to the launcher's settings. */
    public static Scope reuse() {
        return reuse(System.getenv());
    }

    static Scope reuse(Map<String, String> env) {
        Integer leanMmap = bytes(env.get("MALLOC_MMAP_THRESHOLD_"));
        Integer leanTrim = bytes(env.get("MALLOC_TRIM_THRESHOLD_"));
        if (LIBC == null || leanMmap == null || leanTrim == null
                || leanMmap >= REUSE_MMAP_THRESHOLD && leanTrim >= REUSE_TRIM_THRESHOLD) {
            return new Scope(null, 0, 0);
        }
        synchronized (LOCK) {
            generation++; // a trim scheduled by an earlier scope no longer applies
            if (depth++ == 0) {
                LIBC.mallopt(M_MMAP_THRESHOLD, Math.max(leanMmap, REUSE_MMAP_THRESHOLD));
                LIBC.mallopt(M_TRIM_THRESHOLD, Math.max(leanTrim, REUSE_TRIM_THRESHOLD));
            }
        }
        return new Scope(LIBC, leanMmap, leanTrim);
    }

    /**
     * Returns free memory to the system {@link #TRIM_AFTER_MS} after the last scope closed, unless
     * another opened meanwhile: back-to-back learned steps keep reusing their freed memory (a
     * trim after every step made the next one fault all its pages in again: 5.9 s instead of 3.7 s
     * per step at the Pythia-160M shape), while a phase that follows gets it back within seconds.
     */
    private static void scheduleTrim(LibC libc) {
        long mine = ++generation;
        TRIMMER.schedule(() -> {
            synchronized (LOCK) {
                if (depth == 0 && generation == mine) {
                    libc.malloc_trim(0);
                }
            }
        }, TRIM_AFTER_MS, TimeUnit.MILLISECONDS);
    }

    /** How many scopes are open (for tests). */
    static int depth() {
        synchronized (LOCK) {
            return depth;
        }
    }

    /** Whether libc could be loaded (for tests). */
    static boolean available() {
        return LIBC != null;
    }

    private static Integer bytes(String v) {
        if (v == null) {
            return null;
        }
        try {
            long b = Long.parseLong(v.trim());
            return b < 0 || b > Integer.MAX_VALUE ? null : (int) b;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** An open {@link #reuse} scope. */
    public static final class Scope implements AutoCloseable {
        private final LibC libc;
        private final int mmap;
        private final int trim;
        private boolean closed;

        private Scope(LibC libc, int mmap, int trim) {
            this.libc = libc;
            this.mmap = mmap;
            this.trim = trim;
        }

        /** Whether this scope changed the settings (false: a no-op). */
        public boolean active() {
            return libc != null;
        }

        @Override
        public void close() {
            if (libc == null || closed) {
                return;
            }
            closed = true;
            synchronized (LOCK) {
                if (--depth == 0) {
                    libc.mallopt(M_MMAP_THRESHOLD, mmap);
                    libc.mallopt(M_TRIM_THRESHOLD, trim);
                    scheduleTrim(libc);
                }
            }
        }
    }
}
