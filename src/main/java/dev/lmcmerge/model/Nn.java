package dev.lmcmerge.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import java.util.function.Supplier;

/**
 * The tensor operations every family shares, each matching its PyTorch / transformers
 * counterpart. All are pure (no in-place updates) so DJL autograd differentiates through them.
 */
public final class Nn {
    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    private Nn() {
    }

    /**
     * {@code x * value} with the scalar held in libtorch-owned memory. DJL-PyTorch's
     * {@code mul(Number)} / {@code div(Number)} wrap the number in a tensor viewing a Java direct
     * buffer and close it at once; autograd saves that tensor for backward, and once the JVM frees
     * the buffer (after a GC) the gradient reads reused memory (wrong or NaN gradients, at random).
     * Use these on any path that may be differentiated.
     */
    public static NDArray times(NDArray x, double value) {
        return x.mul(scalar(x, value));
    }

    /** {@code x / value} with a libtorch-owned scalar; see {@link #times}. */
    public static NDArray over(NDArray x, double value) {
        return x.div(scalar(x, value));
    }

    /** A 0-d tensor {@code value} of {@code like}'s data type in libtorch-owned memory, in {@code like}'s manager. */
    public static NDArray scalar(NDArray like, double value) {
        try (NDArray javaBacked = like.getManager().create(value)) {
            // toType may return a view of the same Java buffer (same type): duplicate() clones into libtorch memory.
            NDArray typed = javaBacked.toType(like.getDataType(), false);
            NDArray owned = typed.duplicate();
            if (typed != javaBacked) {
                typed.close();
            }
            return owned;
        }
    }

    /**
     * Runs {@code body} in an {@link NDScope} that frees every intermediate when done and hands
     * the result to the caller's scope and to {@code owner} (the input's manager), so a forward
     * pass leaves nothing behind in the weights' long-lived manager. Freeing intermediates is
     * safe under autograd: libtorch's graph keeps its own references to saved tensors.
     */
    static NDArray scoped(NDManager owner, Supplier<NDArray> body) {
        NDArray out;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            out = body.get();
            NDScope.unregister(out);
        }
        NDScope.register(out);
        if (out.getManager() != owner) {
            out.attach(owner);
        }
        return out;
    }

    /** {@code torch.nn.functional.linear}: y = x W^T + b, W [out, in]; {@code b} may be null. */
    public static NDArray linear(NDArray x, NDArray w, NDArray b) {
        return x.getNDArrayInternal().linear(x, w, b).singletonOrThrow();
    }

    /** transformers {@code Conv1D} (GPT-2): y = x W + b with W stored [in, out]. */
    public static NDArray conv1d(NDArray x, NDArray w, NDArray b) {
        NDArray y = x.matMul(w);
        return b == null ? y : y.add(b);
    }

    /** {@code torch.nn.functional.layer_norm} over the last axis. */
    public static NDArray layerNorm(NDArray x, NDArray gamma, NDArray beta, double eps) {
        long d = x.getShape().get(x.getShape().dimension() - 1);
        return x.getNDArrayInternal().layerNorm(x, new Shape(d), gamma, beta, (float) eps).singletonOrThrow();
    }

    /** Llama RMSNorm: {@code w * (x * rsqrt(mean(x^2) + eps))}. */
    public static NDArray rmsNorm(NDArray x, NDArray gamma, double eps) {
        NDArray rms = x.square().mean(new int[] {-1}, true).add(eps).sqrt();
        return x.div(rms).mul(gamma);
    }

    /** Token embedding lookup: ids [B, T] (integer) into table [V, d] gives [B, T, d]. */
    public static NDArray embedding(NDArray ids, NDArray table) {
        NDArray idx = ids.getDataType() == DataType.INT64 ? ids : ids.toType(DataType.INT64, false);
        return idx.getNDArrayInternal().embedding(idx, table, SparseFormat.DENSE).singletonOrThrow();
    }

    /**
     * The MLP activation named by {@code hidden_act} / {@code activation_function}, as in
     * transformers {@code ACT2FN}.
     */
    public static NDArray activation(NDArray x, String name) {
        return switch (name) {
            case "gelu" -> x.getNDArrayInternal().gelu(); // torch exact (erf) GELU
            case "gelu_new", "gelu_fast", "gelu_pytorch_tanh" -> geluTanh(x);
            case "quick_gelu" -> x.mul(times(x, 1.702).getNDArrayInternal().sigmoid());
            case "relu" -> x.getNDArrayInternal().relu();
            case "silu", "swish" -> silu(x);
            default -> throw new IllegalArgumentException("unsupported activation " + name);
        };
    }

    /** The tanh approximation of GELU ({@code gelu_new}): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    public static NDArray geluTanh(NDArray x) {
        NDArray inner = times(x.add(times(x.square().mul(x), 0.044715)), SQRT_2_OVER_PI);
        return times(x, 0.5).mul(inner.tanh().add(1.0));
    }

    /** SiLU: x * sigmoid(x). */
    public static NDArray silu(NDArray x) {
        return x.mul(x.getNDArrayInternal().sigmoid());
    }

    /** [B, T, H*hd] to [B, H, T, hd]. */
    public static NDArray splitHeads(NDArray x, int heads, int headDim) {
        Shape s = x.getShape();
        return x.reshape(s.get(0), s.get(1), heads, headDim).transpose(0, 2, 1, 3);
    }

    /** [B, H, T, hd] to [B, T, H*hd]. */
    public static NDArray mergeHeads(NDArray x) {
        Shape s = x.getShape();
        return x.transpose(0, 2, 1, 3).reshape(s.get(0), s.get(2), s.get(1) * s.get(3));
    }

    /**
     * Additive causal mask [T, T]: 0 where key position j may be seen from query position i
     * (j <= i, and i - j < window when window > 0), -inf elsewhere. Every row keeps its diagonal,
     * so softmax never sees an all -inf row.
     */
    public static NDArray causalMask(NDManager manager, int t, int window) {
        // Built with native ops: a [T, T] float[] per block call would cost 16 MB of heap at T = 2048.
        NDArray pos = manager.arange(t);
        NDArray query = pos.reshape(t, 1);
        NDArray key = pos.reshape(1, t);
        NDArray hidden = key.gt(query);
        if (window > 0) {
            hidden = hidden.logicalOr(query.sub(key).gte(window));
        }
        return NDArrays.where(hidden, manager.full(new Shape(t, t), Float.NEGATIVE_INFINITY),
                manager.zeros(new Shape(t, t)));
    }

    /**
     * Scaled dot-product attention with grouped key/value heads.
     *
     * @param q     [B, H, T, hd]
     * @param k     [B, KV, T, hd], H a multiple of KV; query head h uses key/value head h / (H/KV)
     * @param v     [B, KV, T, hd]
     * @param scale multiplier of the scores (1/sqrt(hd))
     * @param mask  additive mask broadcastable to [T, T], or null for full attention
     * @return [B, H, T, hd]
     */
    public static NDArray attention(NDArray q, NDArray k, NDArray v, double scale, NDArray mask) {
        Shape qs = q.getShape();
        long b = qs.get(0);
        long h = qs.get(1);
        long t = qs.get(2);
        long hd = qs.get(3);
        long kv = k.getShape().get(1);
        if (kv == h) {
            NDArray scores = times(q.matMul(k.transpose(0, 1, 3, 2)), scale);
            if (mask != null) {
                scores = scores.add(mask);
            }
            return scores.softmax(-1).matMul(v);
        }
        // GQA without copying K/V: view queries as [B, KV, G, T, hd] and broadcast K/V over G.
        long g = h / kv;
        long tk = k.getShape().get(2);
        NDArray q5 = q.reshape(b, kv, g, t, hd);
        NDArray k5 = k.reshape(b, kv, 1, tk, hd).transpose(0, 1, 2, 4, 3);
        NDArray v5 = v.reshape(b, kv, 1, tk, hd);
        NDArray scores = times(q5.matMul(k5), scale);
        if (mask != null) {
            scores = scores.add(mask);
        }
        return scores.softmax(-1).matMul(v5).reshape(b, h, t, hd);
    }

    /**
     * RoPE tables for positions 0..T-1: cos and sin, each [T, r] laid out like transformers
     * ({@code emb = cat(freqs, freqs)}), so dim j and j + r/2 share frequency j.
     */
    public static NDArray[] ropeTables(NDManager manager, int t, int rotaryDim, double theta, RopeScaling scaling) {
        float[] inv = scaling.inverseFrequencies(rotaryDim, theta);
        int half = rotaryDim / 2;
        float[] cos = new float[t * rotaryDim];
        float[] sin = new float[t * rotaryDim];
        for (int p = 0; p < t; p++) {
            for (int j = 0; j < half; j++) {
                // transformers: freqs = position (float32) * inv_freq (float32), then cos/sin in float32.
                float angle = (float) p * inv[j];
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                cos[p * rotaryDim + j] = c;
                cos[p * rotaryDim + j + half] = c;
                sin[p * rotaryDim + j] = s;
                sin[p * rotaryDim + j + half] = s;
            }
        }
        // duplicate(): DJL-PyTorch arrays made from Java data are views of a direct buffer that is freed
        // once the array is closed; autograd saves cos/sin for backward (q, k requiring grad), possibly
        // after the block's scope closed them, so the tables must own libtorch memory.
        return new NDArray[] {manager.create(cos, new Shape(t, rotaryDim)).duplicate(),
            manager.create(sin, new Shape(t, rotaryDim)).duplicate()};
    }

    /**
     * Applies RoPE to the first {@code rotaryDim} dims of each head (rotate-half pairs (j, j + r/2)),
     * leaving the rest unchanged (GPT-NeoX partial rotary).
     *
     * @param x   [B, H, T, hd]
     * @param cos [T, r]
     * @param sin [T, r]
     */
    public static NDArray rope(NDArray x, NDArray cos, NDArray sin, int rotaryDim) {
        long hd = x.getShape().get(3);
        int half = rotaryDim / 2;
        boolean partial = rotaryDim < hd;
        NDArray rot = partial ? x.get(new NDIndex("..., :{}", rotaryDim)) : x;
        NDArray x1 = rot.get(new NDIndex("..., :{}", half));
        NDArray x2 = rot.get(new NDIndex("..., {}:", half));
        NDArray rotated = x2.neg().concat(x1, -1);
        NDArray out = rot.mul(cos).add(rotated.mul(sin));
        return partial ? out.concat(x.get(new NDIndex("..., {}:", rotaryDim)), -1) : out;
    }
}
