package dev.lmcmerge.dist;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.lmcmerge.eval.ProgressMeter;
import dev.lmcmerge.io.FileSystems;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Architectures;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.ModelLoader;
import dev.lmcmerge.model.ModelParts;
import dev.lmcmerge.model.TensorSpec;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.Canonicalizer;
import dev.lmcmerge.symmetry.StandardParameterizations;
import dev.lmcmerge.symmetry.SlotGroup;
import dev.lmcmerge.symmetry.Transform;
import dev.lmcmerge.symmetry.TransformSpec;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Executor-side access to the two models of a run: each form of a model (as stored, canonical,
 * transformed by a method's parameters) is made once per executor JVM and kept in the
 * {@link ExecutorModelCache}; tasks get zero-copy views of them. The weights are read by the
 * executor itself, with positioned reads of the safetensors shards on the store.
 */
public final class ExecutorModels {
    /** Config, architecture and bound symmetry table of one model (small; kept per JVM). */
    public record Info(ModelConfig config, Architecture architecture, TransformSpec spec, long f32Bytes) {}

    private static final Map<String, Info> INFOS = new ConcurrentHashMap<>();

    private ExecutorModels() {}

    /** Config, architecture and spec of side {@code a} or {@code b}. */
    public static Info info(JobContext ctx, String side) {
        String location = ctx.location(side);
        return INFOS.computeIfAbsent(ctx.scope() + "|" + location + "|" + ctx.orthogonal(), k -> {
            try (HfCheckpoint ckpt = HfCheckpoint.open(location, ctx.hadoopConf())) {
                ModelConfig cfg = ModelLoader.config(ckpt);
                Architecture arch = Architectures.of(cfg);
                StandardParameterizations p = new StandardParameterizations(
                        StandardParameterizations.RotationForm.valueOf(ctx.orthogonal()));
                long bytes = 0;
                for (TensorSpec t : arch.tensors()) {
                    bytes += 4 * t.numel();
                }
                return new Info(cfg, arch, TransformSpec.forArchitecture(arch, p), bytes);
            } catch (IOException e) {
                throw FileSystems.ioError(location, "cannot close checkpoint", e);
            }
        });
    }

    private static ExecutorModelCache cache(JobContext ctx) {
        return ExecutorModelCache.get(ctx.effectiveCacheLimit());
    }

    /** The start of every stored-form key of this run, so the forms can be dropped together. */
    private static String originalPrefix(JobContext ctx) {
        return ctx.scope() + "|original|";
    }

    /** The start of every transformed-form key of this run. */
    private static String transformedPrefix(JobContext ctx) {
        return ctx.scope() + "|transformed|";
    }

    /** Cache key of a side's stored form. */
    static String originalKey(JobContext ctx, String side) {
        return originalPrefix(ctx) + ctx.location(side);
    }

    /** Cache key of a side's canonical form. */
    static String canonicalKey(JobContext ctx, String side) {
        return ctx.scope() + "|canonical|" + ctx.location(side) + "|" + ctx.orthogonal();
    }

    /** Cache key of a side's canonical form transformed by {@code chain}, in order. */
    static String transformedKey(JobContext ctx, String side, List<Map<String, FloatTensor>> chain) {
        StringBuilder k = new StringBuilder(transformedPrefix(ctx)).append(ctx.location(side)).append('|')
                .append(ctx.orthogonal()).append('|').append(ctx.groups());
        for (Map<String, FloatTensor> params : chain) {
            k.append('|').append(params.size()).append(':').append(Integer.toHexString(params.hashCode()));
        }
        return k.toString();
    }

    /** The model as stored (float32), read from the store once per JVM. */
    public static ExecutorModelCache.Lease original(JobContext ctx, String side, NDManager scratch) {
        Info info = info(ctx, side);
        return cache(ctx).acquire(originalKey(ctx, side), info.f32Bytes(), scratch, m -> read(ctx, side, info, m));
    }

    /**
     * The canonical form, made once per JVM: from the cached stored form if the cache holds it,
     * else from the store directly, so the stored form is not cached for nothing (only naive
     * interpolation and the self-checks need it).
     */
    public static ExecutorModelCache.Lease canonical(JobContext ctx, String side, NDManager scratch) {
        dropUnneededForms(ctx);
        Info info = info(ctx, side);
        return cache(ctx).acquire(canonicalKey(ctx, side), info.f32Bytes(), scratch, m -> {
            if (!cache(ctx).contains(originalKey(ctx, side))) {
                return canonicalFreeingStored(info, read(ctx, side, info, m), m);
            }
            try (ExecutorModelCache.Lease orig = original(ctx, side, scratch)) {
                return canonicalFreeingStored(info, orig.view(m), m);
            }
        });
    }

    /**
     * The canonical form of {@code stored}, with every stored array the canonical form does not
     * share closed before the cache copies it: the stored and canonical copies are whole at
     * once only while canonicalizing, not while the cache fills.
     */
    private static Weights canonicalFreeingStored(Info info, Weights stored, NDManager m) {
        Weights c = Canonicalizer.canonicalize(info.spec(), stored);
        java.util.Set<NDArray> kept = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        kept.addAll(c.asMap().values());
        for (NDArray a : stored.asMap().values()) {
            if (!kept.contains(a)) {
                a.close();
            }
        }
        return copyInto(c, m);
    }

    private static Weights read(JobContext ctx, String side, Info info, NDManager m) {
        try (HfCheckpoint ckpt = HfCheckpoint.open(ctx.location(side), ctx.hadoopConf())) {
            // Progress goes to the executor's stdout (the console in local mode, the executor log on a cluster).
            java.io.PrintWriter out = new java.io.PrintWriter(System.out, true);
            ProgressMeter meter = new ProgressMeter(out, "executor: reading model " + side.toUpperCase(java.util.Locale.ROOT)
                    + " (" + ctx.location(side) + ")", info.architecture().tensors().stream()
                    .filter(t -> ckpt.tensors().containsKey(t.name())).count(), "MB").items("tensors");
            Weights w = ModelLoader.load(ckpt, info.config(), m, (name, bytes) -> meter.step(bytes / 1_000_000));
            meter.finish();
            return untie(w, info, m);
        } catch (IOException e) {
            throw FileSystems.ioError(ctx.location(side), "cannot close checkpoint", e);
        }
    }

    /**
     * The canonical form transformed by each map of {@code chain} in turn (slot name ->
     * parameters; slots of the run's groups a map leaves out are the identity), made once per JVM
     * and chain; an empty chain is the canonical form. It is made one part (embedding, block,
     * head) at a time straight into the cache, never whole outside it.
     */
    public static ExecutorModelCache.Lease form(JobContext ctx, String side, List<Map<String, FloatTensor>> chain,
                                                NDManager scratch) {
        if (chain.isEmpty()) {
            return canonical(ctx, side, scratch);
        }
        Info info = info(ctx, side);
        return cache(ctx).acquire(transformedKey(ctx, side, chain), info.f32Bytes(), scratch, (m, sink) -> {
            try (ExecutorModelCache.Lease c = canonical(ctx, side, scratch)) {
                Weights base = c.view(m);
                SideParts parts = new SideParts(info.spec(), base, SideParts.transforms(ctx, info, chain, m));
                ModelParts split = ModelParts.of(info.architecture(), base::has);
                for (int i = 0; i < split.layers() + 2; i++) {
                    try (NDManager s = m.newSubManager()) {
                        Weights w = parts.part(split.part(i), s);
                        for (String name : split.part(i)) {
                            sink.put(name, w.get(name));
                        }
                    }
                }
                return base.source() + " (transformed)";
            }
        });
    }

    /**
     * Frees the cached forms no later task needs (idle entries only) before making anything else:
     * the stored forms after the naive curve, learning's starting forms after learning.
     */
    private static void dropUnneededForms(JobContext ctx) {
        if (ctx.forms() != JobContext.Forms.ALL) {
            cache(ctx).evictPrefix(originalPrefix(ctx));
        }
        if (ctx.forms() == JobContext.Forms.CANONICAL) {
            cache(ctx).evictPrefix(transformedPrefix(ctx));
        }
    }

    /** The norm eps factor of a chain: the product of its transforms' c^2 (1 without residual scales). */
    public static double epsScale(JobContext ctx, String side, List<Map<String, FloatTensor>> chain, NDManager m) {
        double f = 1.0;
        try (NDManager s = m.newSubManager()) {
            for (Map<String, FloatTensor> params : chain) {
                f *= transform(ctx, info(ctx, side), params, s).epsScale();
            }
        }
        return f;
    }

    /** {@code params} as a symmetry {@link Transform} in {@code m}. */
    public static Transform transform(JobContext ctx, Info info, Map<String, FloatTensor> params, NDManager m) {
        return transform(ctx, info.spec(), params, m);
    }

    /** {@code params} as a symmetry {@link Transform} of {@code spec} in {@code m}. */
    public static Transform transform(JobContext ctx, TransformSpec spec, Map<String, FloatTensor> params,
                                      NDManager m) {
        Map<String, NDArray> p = new LinkedHashMap<>();
        params.forEach((k, v) -> p.put(k, m.create(v.values(), new ai.djl.ndarray.types.Shape(v.shape()))));
        // Only the groups the parameters cover: a learned transform holds the learned groups alone, and
        // Transform.of would otherwise build identity parameters for the rest (n x n latents for FFN
        // permutations) just to skip them.
        java.util.Set<SlotGroup> groups = java.util.EnumSet.noneOf(SlotGroup.class);
        for (String name : p.keySet()) {
            groups.add(spec.slot(name).kind().group());
        }
        groups.retainAll(ctx.slotGroups());
        return Transform.of(spec, groups, p, m);
    }

    /** Copies the weights' arrays into {@code m} by name, so they outlive any narrower manager they were made in. */
    private static Weights copyInto(Weights w, NDManager m) {
        Weights out = new Weights(m, w.source());
        for (Map.Entry<String, NDArray> e : w.asMap().entrySet()) {
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }

    /** A tied unembedding is stored under its own name too (the cache holds each name once, as data). */
    private static Weights untie(Weights w, Info info, NDManager m) {
        Weights out = new Weights(m, w.source());
        for (TensorSpec t : info.architecture().tensors()) {
            out.put(t.name(), w.get(t.name()));
        }
        return out;
    }
}
