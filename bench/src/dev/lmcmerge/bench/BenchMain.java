package dev.lmcmerge.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Entry point of bench/run: runs the named benchmarks (all by default), prints each one's
 * human-readable table as it goes, then every figure as {@code bench NAME VALUE UNIT}.
 * Figures are ratios or rates measured in this one run, never compared against stored numbers.
 */
public final class BenchMain {
    private static final Map<String, Function<BenchContext, List<Figure>>> BENCHES = new LinkedHashMap<>();

    static {
        BENCHES.put("gemm", GemmPeak::run);
        BENCHES.put("forward", ForwardThroughput::run);
        BENCHES.put("apply", TransformApply::run);
        BENCHES.put("step", DualStep::run);
        BENCHES.put("profile-step", StepProfile::run);
        BENCHES.put("reference", PyTorchReference::run);
        BENCHES.put("io", IoThroughput::run);
        BENCHES.put("memory", PeakMemory::run);
        BENCHES.put("spark", SparkOverhead::run);
        BENCHES.put("merge-memory", MergeJobMemory::run);
    }

    public static void main(String[] args) {
        boolean quick = false;
        List<String> names = new ArrayList<>();
        for (String a : args) {
            if (a.equals("--quick")) {
                quick = true;
            } else if (a.equals("-h") || a.equals("--help")) {
                System.out.println("usage: bench/run [--quick] [" + String.join("|", BENCHES.keySet()) + " ...]");
                return;
            } else if (BENCHES.containsKey(a)) {
                names.add(a);
            } else {
                System.err.println("bench: unknown benchmark '" + a + "'; known: " + BENCHES.keySet());
                System.exit(2);
            }
        }
        if (names.isEmpty()) {
            names.addAll(BENCHES.keySet());
        }
        BenchContext ctx = new BenchContext(quick);
        List<Figure> all = new ArrayList<>();
        System.out.printf("machine: %d cores, java %s, %s%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"), System.getProperty("os.name"));
        for (String n : names) {
            System.out.println();
            System.out.println("== " + n + (quick ? " (quick)" : ""));
            all.addAll(BENCHES.get(n).apply(ctx));
        }
        System.out.println();
        for (Figure f : all) {
            System.out.println(f.line());
        }
    }
}
