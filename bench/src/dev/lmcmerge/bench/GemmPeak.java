package dev.lmcmerge.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;

/** fp32 square GEMM throughput through DJL/libtorch: the denominator of every efficiency ratio. */
final class GemmPeak {
    private GemmPeak() {
    }

    record Result(int[] sizes, double[] flops) {
        double best() {
            double b = 0;
            for (double f : flops) {
                b = Math.max(b, f);
            }
            return b;
        }
    }

    static Result measure(int[] sizes) {
        double[] flops = new double[sizes.length];
        try (NDManager m = NDManager.newBaseManager()) {
            for (int i = 0; i < sizes.length; i++) {
                int n = sizes[i];
                NDArray a = BenchContext.randn(m, 1f, n, n);
                NDArray b = BenchContext.randn(m, 1f, n, n);
                int reps = n >= 2048 ? 5 : 15;
                double s = BenchContext.medianSeconds(3, reps, () -> {
                    try (NDManager sub = m.newSubManager()) {
                        // libtorch on CPU is eager and synchronous: the product is done when matMul returns.
                        a.matMul(b).attach(sub);
                    }
                });
                flops[i] = 2.0 * n * n * n / s;
            }
        }
        return new Result(sizes, flops);
    }

    static List<Figure> run(BenchContext ctx) {
        Result r = measure(ctx.quick ? new int[] {512, 1024} : new int[] {512, 1024, 2048});
        List<Figure> out = new ArrayList<>();
        System.out.printf("%-8s %12s%n", "n", "GFLOP/s");
        for (int i = 0; i < r.sizes().length; i++) {
            System.out.printf("%-8d %12.1f%n", r.sizes()[i], r.flops()[i] / 1e9);
        }
        out.add(new Figure("gemm_peak_gflops", r.best() / 1e9, "GFLOP/s"));
        ctx.offerGemmPeak(r.best());
        return out;
    }
}
