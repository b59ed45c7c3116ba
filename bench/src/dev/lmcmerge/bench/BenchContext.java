package dev.lmcmerge.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** Shared state of one bench run: the quick flag and the GEMM peak measured once. */
final class BenchContext {
    final boolean quick;
    private double gemmPeak = -1;
    private final java.util.Map<String, Double> recorded = new java.util.HashMap<>();

    BenchContext(boolean quick) {
        this.quick = quick;
    }

    /**
     * The machine's fp32 GEMM throughput (FLOP/s) with libtorch, at its best size: measured now if
     * this run has not measured it yet, else the best measurement of this run (the gemm benchmark
     * offers its own), so a ratio is never taken against a peak measured in a slow moment.
     */
    double gemmPeak() {
        if (gemmPeak < 0) {
            gemmPeak = GemmPeak.measure(quick ? new int[] {1024} : new int[] {1024, 2048}).best();
        }
        return gemmPeak;
    }

    /** Takes a GEMM throughput measured in this run into account (see {@link #gemmPeak}). */
    void offerGemmPeak(double flops) {
        gemmPeak = Math.max(gemmPeak, flops);
    }

    /** Keeps a figure for a later benchmark of the same run (the reference compares with the step's time). */
    void record(String name, double value) {
        recorded.put(name, value);
    }

    /** A figure recorded earlier in this run, or null. */
    Double recorded(String name) {
        return recorded.get(name);
    }

    /** Median wall time in seconds of {@code reps} runs of {@code body} after {@code warmup} runs. */
    static double medianSeconds(int warmup, int reps, Runnable body) {
        for (int i = 0; i < warmup; i++) {
            body.run();
        }
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long s = System.nanoTime();
            body.run();
            t[i] = (System.nanoTime() - s) / 1e9;
        }
        java.util.Arrays.sort(t);
        return t[reps / 2];
    }

    static NDArray randn(NDManager m, float std, long... shape) {
        return m.randomNormal(0f, std, new Shape(shape), ai.djl.ndarray.types.DataType.FLOAT32);
    }
}
