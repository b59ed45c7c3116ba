package dev.lmcmerge.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.dist.Alignability;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.FileSystems;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.ModelLoader;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.HfExporter;
import dev.lmcmerge.symmetry.Interpolation;
import dev.lmcmerge.symmetry.TransformSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lmc interpolate --model-a A --model-b B --alpha 0.5 --out DIR}: the naive merge
 * (1 - alpha) A + alpha B of two models' stored weights, tensor by tensor, written as a Hugging
 * Face folder of the same architecture (config.json and tokenizer files of A).
 */
@Command(name = "interpolate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Write the naive merge (1 - alpha) A + alpha B of two models as a Hugging Face folder.")
final class InterpolateCommand implements Callable<Integer> {
    @Option(names = "--model-a", required = true, paramLabel = "A", description = "Model A (alpha = 0): Hugging Face folder.")
    String modelA;

    @Option(names = "--model-b", required = true, paramLabel = "B", description = "Model B (alpha = 1): Hugging Face folder.")
    String modelB;

    @Option(names = "--alpha", defaultValue = "0.5", paramLabel = "X",
            description = "Weight of B, in [0, 1] (default: ${DEFAULT-VALUE}).")
    double alpha;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output model folder (must not exist).")
    String out;

    @Option(names = "--overwrite", description = "Replace an existing --out folder.")
    boolean overwrite;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (!(alpha >= 0 && alpha <= 1)) {
            throw LmcException.usage("--alpha", "must be in [0, 1], got " + alpha);
        }
        Configuration conf = new Configuration();
        FileSystems.requireCreatable(FileSystems.resolve(out), conf, "--out");
        if (!overwrite && FileSystems.exists(FileSystems.resolve(out), conf)) {
            // Checked before the models are read; an existing output is a choice for the user, not bad input.
            throw LmcException.usage("--out", FileSystems.resolve(out) + " already exists; choose a new folder or"
                    + " give --overwrite to replace it");
        }
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (NDManager manager = Engine.getInstance().newBaseManager();
             HfCheckpoint a = HfCheckpoint.open(modelA, conf);
             HfCheckpoint b = HfCheckpoint.open(modelB, conf)) {
            ModelConfig cfg = ModelLoader.config(a);
            Alignability.check(a, cfg, b, ModelLoader.config(b));
            try (ModelLoader.LoadedModel ma = ModelLoader.open(modelA, manager.newSubManager());
                 ModelLoader.LoadedModel mb = ModelLoader.open(modelB, manager.newSubManager());
                 Weights merged = Interpolation.lerp(ma.weights(), mb.weights(), alpha)) {
                TransformSpec tspec = TransformSpec.forArchitecture(ma.architecture());
                ByteArrayOutputStream note = new ByteArrayOutputStream();
                new HfExporter(tspec, a.config()).dtype(storedType(a)).tokenizerFiles(a.tokenizerFiles())
                        .overwrite(overwrite).log(new PrintStream(note, true, StandardCharsets.UTF_8))
                        .write(merged, out, conf);
                err.print(note.toString(StandardCharsets.UTF_8));
            }
            stdout.printf(Locale.ROOT, "merged      (1 - %s) %s + %s %s%n", fmt(alpha), modelA, fmt(alpha), modelB);
            stdout.printf(Locale.ROOT, "written     %s (%s)%n", out, cfg.modelType());
            stdout.flush();
            return 0;
        } catch (IOException e) {
            throw LmcException.invalidInput(modelA, "cannot close the checkpoint: " + e.getMessage());
        }
    }

    /** Half-precision sources are written back in their type; anything else as float32. */
    private static DType storedType(HfCheckpoint source) {
        DType t = null;
        for (var info : source.tensors().values()) {
            DType d = info.dtype();
            if (t == null) {
                t = d;
            } else if (t != d) {
                return DType.F32;
            }
        }
        return t == DType.BF16 || t == DType.F16 ? t : DType.F32;
    }

    private static String fmt(double x) {
        return String.format(Locale.ROOT, "%.4g", x);
    }
}
