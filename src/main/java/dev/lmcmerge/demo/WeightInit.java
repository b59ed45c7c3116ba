package dev.lmcmerge.demo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.TensorSpec;
import dev.lmcmerge.model.Weights;
import java.util.Random;

/**
 * Hugging Face's initialization of a GPT-NeoX model ({@code GPTNeoXPreTrainedModel._init_weights}),
 * drawn from a seeded Java generator so that one seed gives bit-identical weights on every
 * machine and thread count: weight matrices and embeddings N(0, std^2), biases 0, LayerNorm
 * weight 1 and bias 0.
 */
public final class WeightInit {
    private WeightInit() {}

    /** Fresh float32 weights for every tensor of {@code arch}, drawn in {@code arch.tensors()} order. */
    public static Weights initialize(Architecture arch, NDManager manager, long seed, double std) {
        Random rng = new Random(seed);
        Weights w = new Weights(manager, "train-demo init (seed " + seed + ")");
        for (TensorSpec t : arch.tensors()) {
            if (t.tied()) {
                continue;
            }
            float[] v = new float[Math.toIntExact(t.numel())];
            if (t.role() == TensorSpec.Role.NORM) {
                if (t.name().endsWith(".weight")) {
                    java.util.Arrays.fill(v, 1f);
                }
            } else if (t.shape().length >= 2) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (rng.nextGaussian() * std);
                }
            }
            w.put(t.name(), libtorchOwned(manager.create(v, new Shape(t.shape()))));
        }
        return w;
    }

    /**
     * A copy in memory libtorch allocated. {@code NDManager.create} wraps a Java direct buffer
     * ({@code torch::from_blob}), whose address alignment varies from run to run; BLAS kernels
     * may round differently on differently aligned rows, which made training results differ in
     * the last bits between identical runs. libtorch's allocator always aligns to 64 bytes.
     */
    static NDArray libtorchOwned(NDArray wrapped) {
        NDArray owned = wrapped.duplicate();
        wrapped.close();
        return owned;
    }
}
