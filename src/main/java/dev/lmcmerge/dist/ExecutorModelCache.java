package dev.lmcmerge.dist;

import ai.djl.ndarray.NDManager;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.model.Weights;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.arrow.memory.RootAllocator;

/**
 * The per-JVM cache of model weights on an executor (DESIGN.md section 4, "Executor model
 * cache"). Each executor reads the tensors it needs straight from the checkpoint's store,
 * canonicalizes them once and keeps them here for every later step, so the driver never holds
 * weights and no step re-reads them.
 *
 * <p>Tensor bytes live off the Java heap in Apache Arrow buffers under one
 * {@link RootAllocator} whose limit is {@code lmc.compute.cache-size}; DJL reads them in place.
 * Entries are reference-counted while tasks use them ({@link Lease}) and evicted least recently
 * used when a new entry needs room. When even an empty cache cannot hold what a task needs, the
 * task fails with an error naming the limit and the bytes needed, instead of an
 * {@code OutOfMemoryError}.
 */
public final class ExecutorModelCache {
    private static final Logger LOG = Logger.getLogger(ExecutorModelCache.class.getName());
    private static ExecutorModelCache instance;

    private final BufferAllocator allocator;
    private final long limit;
    /** Access-ordered: iteration starts at the least recently used entry. */
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private final Map<String, Object> loading = new LinkedHashMap<>();
    private long loads;

    private static final class Entry {
        final OffHeapModel model;
        int users;

        Entry(OffHeapModel model) {
            this.model = model;
        }
    }

    ExecutorModelCache(long limitBytes) {
        this.limit = limitBytes;
        this.allocator = new RootAllocator(limitBytes);
    }

    /**
     * The cache of this JVM. The first caller fixes its limit (all tasks of one job pass the same
     * value); a later job asking for another limit gets a fresh cache once the old one is idle.
     */
    public static synchronized ExecutorModelCache get(long limitBytes) {
        requireDirectMemory(limitBytes, maxDirectMemory());
        if (instance == null) {
            instance = new ExecutorModelCache(limitBytes);
        } else if (instance.limit != limitBytes && instance.idle()) {
            instance.clear();
            instance = new ExecutorModelCache(limitBytes);
        }
        return instance;
    }

    /** Makes an entry's weights (in the given manager) when the cache does not hold it. */
    @FunctionalInterface
    public interface Loader {
        /**
         * @param manager a scratch manager, closed after the weights were copied into the cache
         * @return the weights to cache (float32; any manager below {@code manager})
         */
        Weights load(NDManager manager);
    }

    /** Receives the tensors of an entry one at a time (copied into the cache at once). */
    @FunctionalInterface
    public interface TensorSink {
        void put(String name, ai.djl.ndarray.NDArray tensor);
    }

    /** Makes an entry's weights tensor by tensor, handing each to the cache as soon as it is made. */
    @FunctionalInterface
    public interface StreamLoader {
        /**
         * @param manager a scratch manager, closed after the load
         * @param sink    where each tensor goes (float32; any manager below {@code manager})
         * @return what the weights are, for messages
         */
        String load(NDManager manager, TensorSink sink);
    }

    /** A task's use of one cached entry; close it when the task no longer needs the weights. */
    public final class Lease implements AutoCloseable {
        private final String key;
        private final Entry entry;
        private boolean closed;

        private Lease(String key, Entry entry) {
            this.key = key;
            this.entry = entry;
        }

        /** The weights as DJL arrays in {@code manager}, sharing the cached memory (no copy). */
        public Weights view(NDManager manager) {
            if (closed) {
                throw new IllegalStateException("lease of " + key + " is closed");
            }
            return entry.model.view(manager);
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                release(entry);
            }
        }
    }

    /**
     * The entry {@code key}, made by {@code loader} if absent. Concurrent tasks asking for the
     * same key wait for one load.
     *
     * @param bytesNeeded float32 bytes of the entry (known from shapes before anything is computed,
     *                    so a cache that is too small fails before the work)
     * @param scratch     the manager under which {@code loader} computes
     * @throws LmcException FAILURE naming {@code lmc.compute.cache-size}, the bytes needed and the
     *                      bytes held, when the entry does not fit even after evicting every idle entry
     */
    public Lease acquire(String key, long bytesNeeded, NDManager scratch, Loader loader) {
        return acquire(key, bytesNeeded, buf -> {
            try (NDManager m = scratch.newSubManager()) {
                Weights w = loader.load(m);
                long have = OffHeapModel.bytesFor(shapes(w));
                if (have != bytesNeeded) {
                    throw new IllegalStateException(key + ": planned " + bytesNeeded + " bytes but the weights have "
                            + have);
                }
                return OffHeapModel.copyOf(w, buf);
            }
        });
    }

    /**
     * As {@link #acquire(String, long, NDManager, Loader)} for a loader that makes the weights
     * tensor by tensor: the entry's buffer is filled as they come, so they are never whole
     * outside the cache.
     */
    public Lease acquire(String key, long bytesNeeded, NDManager scratch, StreamLoader loader) {
        return acquire(key, bytesNeeded, buf -> {
            try (NDManager m = scratch.newSubManager()) {
                OffHeapModel.Builder b = new OffHeapModel.Builder(buf);
                String source = loader.load(m, b::put);
                if (b.bytes() != bytesNeeded) {
                    throw new IllegalStateException(key + ": planned " + bytesNeeded + " bytes but the loader gave "
                            + b.bytes());
                }
                return b.build(source);
            }
        });
    }

    private Lease acquire(String key, long bytesNeeded, java.util.function.Function<ArrowBuf, OffHeapModel> make) {
        Object lock;
        synchronized (this) {
            Entry e = entries.get(key);
            if (e != null) {
                e.users++;
                return new Lease(key, e);
            }
            lock = loading.computeIfAbsent(key, k -> new Object());
        }
        synchronized (lock) {
            synchronized (this) {
                Entry e = entries.get(key);
                if (e != null) {
                    e.users++;
                    return new Lease(key, e);
                }
            }
            ArrowBuf buf = reserve(key, bytesNeeded);
            OffHeapModel model;
            try {
                model = make.apply(buf);
            } catch (RuntimeException | Error ex) {
                buf.close();
                synchronized (this) {
                    loading.remove(key);
                }
                throw ex;
            }
            synchronized (this) {
                Entry e = new Entry(model);
                e.users = 1;
                entries.put(key, e);
                loading.remove(key);
                loads++;
                LOG.info("cached " + key + " (" + Sizes.bytes(model.bytes()) + "; cache holds "
                        + Sizes.bytes(allocator.getAllocatedMemory()) + " of " + Sizes.bytes(limit) + ")");
                return new Lease(key, e);
            }
        }
    }

    /** A buffer of {@code bytes}, evicting idle entries (least recently used first) as needed. */
    private ArrowBuf reserve(String key, long bytes) {
        while (true) {
            try {
                return allocator.buffer(bytes);
            } catch (OutOfMemoryException e) {
                if (!evictOne()) {
                    long held;
                    List<String> inUse = new ArrayList<>();
                    synchronized (this) {
                        held = allocator.getAllocatedMemory();
                        entries.forEach((k, v) -> inUse.add(k + " " + Sizes.bytes(v.model.bytes())));
                    }
                    throw new LmcException(ExitCode.FAILURE, "executor model cache: " + key + " needs "
                            + Sizes.bytes(bytes) + " (" + bytes + " bytes) but lmc.compute.cache-size is "
                            + Sizes.bytes(limit) + " (" + limit + " bytes) and " + Sizes.bytes(held)
                            + " are held by weights in use " + inUse + "; raise lmc.compute.cache-size (and the"
                            + " executor's memory overhead with it) or use executors with more memory");
                }
            }
        }
    }

    /** Evicts the least recently used idle entry; false if none is idle. */
    private synchronized boolean evictOne() {
        Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<String, Entry> e = it.next();
            if (e.getValue().users == 0) {
                LOG.info("evicting " + e.getKey() + " (" + Sizes.bytes(e.getValue().model.bytes()) + ")");
                e.getValue().model.close();
                it.remove();
                return true;
            }
        }
        return false;
    }

    private synchronized void release(Entry e) {
        e.users--;
    }

    /** Drops every idle entry whose key starts with {@code prefix} (e.g. an earlier method's aligned weights). */
    public synchronized void evictPrefix(String prefix) {
        Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<String, Entry> e = it.next();
            if (e.getKey().startsWith(prefix) && e.getValue().users == 0) {
                e.getValue().model.close();
                it.remove();
            }
        }
    }

    /** True if the cache holds {@code key}. */
    public synchronized boolean contains(String key) {
        return entries.containsKey(key);
    }

    /** Number of loads so far (a cached entry is loaded once per JVM). */
    public synchronized long loads() {
        return loads;
    }

    /** Bytes held by cached weights. */
    public long allocatedBytes() {
        return allocator.getAllocatedMemory();
    }

    /** The configured limit in bytes. */
    public long limit() {
        return limit;
    }

    private synchronized boolean idle() {
        for (Entry e : entries.values()) {
            if (e.users > 0) {
                return false;
            }
        }
        return loading.isEmpty();
    }

    /** Frees every idle entry. */
    public synchronized void clear() {
        Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator();
        while (it.hasNext()) {
            Entry e = it.next().getValue();
            if (e.users == 0) {
                e.model.close();
                it.remove();
            }
        }
    }

    private static Map<String, long[]> shapes(Weights w) {
        Map<String, long[]> out = new LinkedHashMap<>();
        w.asMap().forEach((k, v) -> out.put(k, v.getShape().getShape()));
        return out;
    }

    /**
     * The JVM's limit on direct memory, which Arrow's buffers count against: the value of
     * {@code -XX:MaxDirectMemorySize}, or the maximum heap size when it is not given (the JDK's
     * default). A cache larger than it would fail on its first big allocation.
     */
    static long maxDirectMemory() {
        for (String arg : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("-XX:MaxDirectMemorySize=")) {
                return parseJvmSize(arg.substring("-XX:MaxDirectMemorySize=".length()));
            }
        }
        return Runtime.getRuntime().maxMemory();
    }

    /** A JVM size option value: digits with an optional k, m, g or t suffix (either case). */
    static long parseJvmSize(String v) {
        String t = v.trim().toLowerCase(java.util.Locale.ROOT);
        long unit = switch (t.isEmpty() ? ' ' : t.charAt(t.length() - 1)) {
            case 'k' -> 1L << 10;
            case 'm' -> 1L << 20;
            case 'g' -> 1L << 30;
            case 't' -> 1L << 40;
            default -> 1L;
        };
        String digits = unit == 1 ? t : t.substring(0, t.length() - 1);
        return Long.parseLong(digits) * unit;
    }

    /**
     * Fails fast, naming both settings, when the cache may grow beyond the JVM's direct memory:
     * otherwise the first load that crosses it fails deep inside a task with a misleading
     * "cache full" message, although the cache limit is far away.
     */
    static void requireDirectMemory(long limitBytes, long maxDirect) {
        if (limitBytes > maxDirect) {
            throw new LmcException(ExitCode.USAGE, "lmc.compute.cache-size: " + Sizes.bytes(limitBytes) + " ("
                    + limitBytes + " bytes) is more than this JVM's direct memory limit " + Sizes.bytes(maxDirect)
                    + " (-XX:MaxDirectMemorySize, which defaults to the heap size -Xmx); give the JVM"
                    + " -XX:MaxDirectMemorySize of at least the cache size (the submit/ wrappers set it from"
                    + " LMC_EXECUTOR_OVERHEAD, bin/lmc from LMC_DIRECT_MEMORY) or lower lmc.compute.cache-size");
        }
    }

    /**
     * Default limit for {@code lmc.compute.cache-size = auto}: half of the memory outside the heap,
     * at least 256 MiB, at most 90% of the JVM's direct memory limit.
     */
    public static long autoLimit() {
        return Math.min(autoLimitFromMemory(), (long) (0.9 * maxDirectMemory()));
    }

    private static long autoLimitFromMemory() {
        long physical = 0;
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            physical = os.getTotalMemorySize();
        }
        long heap = Runtime.getRuntime().maxMemory();
        long free = physical > heap ? physical - heap : 0;
        return Math.max(256L << 20, free / 2);
    }
}
