package dev.lmcmerge.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.Weights;
import java.util.List;

/**
 * Forward throughput at a Pythia-160M shape with random weights: tokens/s, and achieved
 * FLOP/s over the GEMM peak measured in the same run. FLOPs counted: 2 x (matmul parameters)
 * per token plus the attention products QK^T and AV (4 T d per token per layer, full square).
 */
final class ForwardThroughput {
    private ForwardThroughput() {
    }

    static double flopsPerToken(ModelConfig c, int seqLen) {
        double d = c.hiddenSize();
        double perLayer = 4 * d * d + 2 * d * c.intermediateSize();
        double matmulParams = c.numLayers() * perLayer + (double) c.vocabSize() * d;
        return 2 * matmulParams + 4.0 * c.numLayers() * seqLen * d;
    }

    static List<Figure> run(BenchContext ctx) {
        double peak = ctx.gemmPeak();
        ModelConfig cfg = RandomModels.pythia160m();
        Architecture arch = RandomModels.arch(cfg);
        int batch = ctx.quick ? 1 : 4;
        int seq = 256;
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = RandomModels.randomWeights(arch, m);
            NDArray ids = m.randomInteger(0, cfg.vocabSize(), new Shape(batch, seq), DataType.INT64);
            boolean grad = JniUtils.isGradMode();
            JniUtils.setGradMode(false); // inference: no autograd bookkeeping
            try {
                double s = BenchContext.medianSeconds(1, ctx.quick ? 3 : 5, () -> {
                    try (NDManager sub = m.newSubManager()) {
                        arch.forward(w, ids).attach(sub);
                    }
                });
                double tokens = (double) batch * seq;
                double tps = tokens / s;
                double flops = flopsPerToken(cfg, seq) * tokens / s;
                System.out.printf("shape pythia-160m, batch %d x seq %d: %.3f s/forward, %.0f tokens/s, %.1f GFLOP/s, peak %.1f GFLOP/s%n",
                        batch, seq, s, tps, flops / 1e9, peak / 1e9);
                return List.of(
                        new Figure("forward_tokens_per_s_160m", tps, "tokens/s"),
                        new Figure("forward_gflops_160m", flops / 1e9, "GFLOP/s"),
                        new Figure("forward_gemm_ratio_160m", flops / peak, "ratio"));
            } finally {
                JniUtils.setGradMode(grad);
            }
        }
    }
}
