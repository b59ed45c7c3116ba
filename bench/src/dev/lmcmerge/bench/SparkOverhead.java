package dev.lmcmerge.bench;

import dev.lmcmerge.dist.SparkStepOverhead;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Spark's per-step overhead: a learned-matching gradient step as a Spark job (local[1], one
 * partition) over the same step in process (target <= 1.10 at the Pythia-160M shape).
 */
final class SparkOverhead {
    private SparkOverhead() {
    }

    static List<Figure> run(BenchContext ctx) {
        String shape = ctx.quick ? "small" : "160m";
        var cfg = ctx.quick ? RandomModels.pythiaConfig(256, 4, 4, 1024, 50304)
                : RandomModels.pythiaConfig(768, 12, 12, 3072, 50304);
        int rows = ctx.quick ? 2 : 2;
        int seq = ctx.quick ? 128 : 256;
        Path tmp = null;
        try {
            tmp = Files.createTempDirectory("lmc-bench-spark");
            List<SparkStepOverhead.Row> rs = SparkStepOverhead.run(cfg, shape, rows, seq, 3, tmp);
            List<Figure> out = new ArrayList<>();
            System.out.printf("%-28s %12s %12s %8s%n", "step (" + rows + " x " + seq + " tokens)", "in-process s",
                    "spark s", "ratio");
            for (SparkStepOverhead.Row r : rs) {
                System.out.printf("%-28s %12.3f %12.3f %8.3f%n", r.name(), r.inProcess(), r.distributed(), r.ratio());
                out.add(new Figure("spark_step_overhead_" + r.name(), r.ratio(), "ratio"));
            }
            return out;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } finally {
            if (tmp != null) {
                deleteTree(tmp);
            }
        }
    }

    private static void deleteTree(Path p) {
        try (var s = Files.walk(p)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (java.io.IOException ignored) {
            // best effort: a temp dir
        }
    }
}
