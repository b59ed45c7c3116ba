package dev.lmcmerge.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.lmcmerge.model.Losses;
import dev.lmcmerge.model.ModelLoader;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.Canonicalizer;
import dev.lmcmerge.symmetry.Transform;
import dev.lmcmerge.symmetry.TransformEngine;
import dev.lmcmerge.symmetry.TransformSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The child process of {@link PeakMemory}: load, canonicalize, apply, forward on one model
 * folder, then print its peak resident set (VmHWM, kB) and the phases' times. Every stage's
 * weights stay open (the canonical form shares the tensors it does not change with the loaded
 * model, the transformed weights those no slot touches), as in one executor task.
 */
public final class MemoryChild {
    private MemoryChild() {
    }

    static String hwmGiB() {
        long kb = ProcStatus.kb("VmHWM");
        return kb < 0 ? "?" : String.format(Locale.ROOT, "%.2f", kb / 1048576.0);
    }

    public static void main(String[] args) throws IOException {
        String folder = args[0];
        StringBuilder phases = new StringBuilder();
        long t0 = System.nanoTime();
        try (NDManager m = NDManager.newBaseManager()) {
            JniUtils.setGradMode(false);
            ModelLoader.LoadedModel model = ModelLoader.open(folder, m.newSubManager());
            long t1 = System.nanoTime();
            String rss = "; VmHWM after load " + hwmGiB();
            TransformSpec spec = TransformSpec.forArchitecture(model.architecture());
            Weights canonical = Canonicalizer.canonicalize(spec, model.weights());
            long t2 = System.nanoTime();
            rss += ", canonicalize " + hwmGiB();
            Transform t = DualStep.starts(spec, m)[1];
            Weights transformed = TransformEngine.apply(spec, t, canonical);
            long t3 = System.nanoTime();
            rss += ", apply " + hwmGiB();
            NDArray ids = m.randomInteger(0, model.config().vocabSize(), new Shape(1, 256), DataType.INT64);
            double loss = Losses.causalLm(model.architecture().forward(transformed, ids), ids)
                    .toType(DataType.FLOAT64, false).getDouble();
            long t4 = System.nanoTime();
            rss += ", forward " + hwmGiB() + " GiB";
            phases.append(String.format(Locale.ROOT, "load %.1f, canonicalize %.1f, apply %.1f, forward %.1f (loss %.2f)",
                    (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, (t4 - t3) / 1e9, loss));
            phases.append(rss);
        }
        System.out.println("VmHWM_kB " + ProcStatus.kb("VmHWM"));
        System.out.println("phases " + phases);
    }
}
