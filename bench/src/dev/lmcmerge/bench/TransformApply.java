package dev.lmcmerge.bench;

import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.SlotGroup;
import dev.lmcmerge.symmetry.Transform;
import dev.lmcmerge.symmetry.TransformEngine;
import dev.lmcmerge.symmetry.TransformSpec;
import java.util.List;

/**
 * One full {@link TransformEngine#apply} of a random element of every slot group, without a
 * graph (as the export and the evaluation do), at a Pythia shape (410M; 160M with --quick).
 */
final class TransformApply {
    private TransformApply() {
    }

    static List<Figure> run(BenchContext ctx) {
        ModelConfig cfg = ctx.quick ? RandomModels.pythia160m() : RandomModels.pythia410m();
        String shape = ctx.quick ? "160m" : "410m";
        Architecture arch = RandomModels.arch(cfg);
        TransformSpec spec = TransformSpec.forArchitecture(arch);
        try (NDManager m = NDManager.newBaseManager()) {
            boolean grad = JniUtils.isGradMode(); // after the manager has loaded the engine
            JniUtils.setGradMode(false);
            try {
                Weights w = RandomModels.randomWeights(arch, m);
                Transform t = Transform.random(spec, SlotGroup.all(), 1, m);
                double s = BenchContext.medianSeconds(1, ctx.quick ? 2 : 3, () -> {
                    try (Weights out = TransformEngine.apply(spec, t, w)) {
                        out.names(); // the new tensors live in out's manager, closed here
                    }
                });
                System.out.printf("shape pythia-%s, every slot group: %.3f s per apply%n", shape, s);
                // where the time goes: one group at a time
                for (SlotGroup g : SlotGroup.values()) {
                    Transform one = Transform.random(spec, java.util.EnumSet.of(g), 1, m);
                    double sg = BenchContext.medianSeconds(1, ctx.quick ? 2 : 3, () -> {
                        try (Weights out = TransformEngine.apply(spec, one, w)) {
                            out.names();
                        }
                    });
                    System.out.printf("  %-8s alone: %.3f s%n", g.name().toLowerCase(java.util.Locale.ROOT), sg);
                }
                return List.of(new Figure("transform_apply_s_" + shape, s, "s"));
            } finally {
                JniUtils.setGradMode(grad);
            }
        }
    }
}
