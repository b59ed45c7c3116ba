package dev.lmcmerge.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.io.TensorInfo;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.ModelLoader;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.Canonicalizer;
import dev.lmcmerge.symmetry.ExactnessCheck;
import dev.lmcmerge.symmetry.HfExporter;
import dev.lmcmerge.symmetry.Slot;
import dev.lmcmerge.symmetry.SlotGroup;
import dev.lmcmerge.symmetry.StandardParameterizations;
import dev.lmcmerge.symmetry.Transform;
import dev.lmcmerge.symmetry.TransformEngine;
import dev.lmcmerge.symmetry.TransformSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lmc transform --model M --random-seed N --out DIR [--slots ...]}: rewrites a model with a
 * random element of its symmetry group (canonical form, then every chosen slot well away from the
 * identity), exports it as a stock Hugging Face folder of the same architecture, reloads the
 * export and prints the max |logit difference| to the original on a few random inputs.
 */
@Command(name = "transform", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Apply a random function-preserving symmetry transformation to a model and export it"
                + " as a Hugging Face folder of the same architecture.",
                "The export is reloaded and compared with the original (max |logit difference|); above"
                        + " --tolerance the command fails with exit code 1."})
final class TransformCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "M",
            description = "Hugging Face model folder: local path, hdfs://, s3a:// or file://.")
    String model;

    @Option(names = "--random-seed", required = true, paramLabel = "N",
            description = "Seed of the random group element (and of the check inputs).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output model folder (must not exist).")
    String out;

    @Option(names = "--slots", defaultValue = "residual,heads,qk,vo,ffn,scale", paramLabel = "LIST",
            description = "Slot groups to transform, comma-separated subset of residual,heads,qk,vo,ffn,scale"
                    + " (default: ${DEFAULT-VALUE}). scale = residual scale (norm eps x c^2) and, for gated MLPs,"
                    + " FFN unit scales.")
    String slots;

    @Option(names = "--rotation", defaultValue = "cayley", paramLabel = "P",
            description = "Residual rotation parameterization: cayley or expm (default: ${DEFAULT-VALUE}).")
    String rotation;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "T",
            description = "Stored weight type: f32, or source to keep the checkpoint's bf16/f16 (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--tolerance", defaultValue = "1e-3", paramLabel = "X",
            description = "Largest accepted max |logit difference| of the reloaded export (default: ${DEFAULT-VALUE}).")
    double tolerance;

    @Option(names = "--overwrite", description = "Replace an existing --out folder.")
    boolean overwrite;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Set<SlotGroup> groups = SlotGroup.parse(slots, "--slots");
        StandardParameterizations.RotationForm form = StandardParameterizations.RotationForm.parse(rotation, "--rotation");
        if (!(tolerance >= 0)) {
            throw LmcException.usage("--tolerance", "must be a non-negative number, got " + tolerance);
        }
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Configuration conf = new Configuration();
        try (NDManager manager = Engine.getInstance().newBaseManager();
             HfCheckpoint source = HfCheckpoint.open(model, conf)) {
            DType storeAs = storedType(source);
            ModelLoader.LoadedModel original = ModelLoader.open(model, manager.newSubManager());
            TransformSpec tspec = TransformSpec.forArchitecture(original.architecture(), new StandardParameterizations(form));
            Weights canonical = Canonicalizer.canonicalize(tspec, original.weights());
            Transform t = Transform.random(tspec, groups, seed, manager);
            Weights transformed = TransformEngine.apply(tspec, t, canonical);

            ByteArrayOutputStream note = new ByteArrayOutputStream();
            new HfExporter(tspec, source.config()).epsScale(t.epsScale()).dtype(storeAs)
                    .tokenizerFiles(source.tokenizerFiles()).overwrite(overwrite)
                    .log(new PrintStream(note, true, StandardCharsets.UTF_8))
                    .write(transformed, out, conf);
            err.print(note.toString(StandardCharsets.UTF_8));

            ModelLoader.LoadedModel exported = ModelLoader.open(out, manager.newSubManager());
            NDArray input = checkInput(original.config(), manager);
            double diff = ExactnessCheck.maxLogitDifference(original.architecture(), original.weights(),
                    exported.architecture(), exported.weights(), input);

            stdout.printf(Locale.ROOT, "model       %s (%s)%n", model, original.config().modelType());
            stdout.printf(Locale.ROOT, "slots       %s%n", describe(tspec, t));
            if (t.scalesResidual()) {
                stdout.printf(Locale.ROOT, "eps         x %.6g (residual scale c = %.6g)%n", t.epsScale(),
                        Math.sqrt(t.epsScale()));
            }
            stdout.printf(Locale.ROOT, "written     %s (%s)%n", out, storeAs.safetensorsName());
            stdout.printf(Locale.ROOT, "max |logit diff| %.3e on %s (original vs reloaded export)%n", diff,
                    input.getShape());
            stdout.flush();
            if (!(diff <= tolerance)) {
                throw new LmcException(dev.lmcmerge.config.ExitCode.FAILURE, "self-check failed: the export " + out
                        + " differs from " + model + " by max |logit difference| " + diff + ", above --tolerance "
                        + tolerance);
            }
            return 0;
        } catch (IOException e) {
            throw LmcException.invalidInput(model, "cannot close the checkpoint: " + e.getMessage());
        }
    }

    private DType storedType(HfCheckpoint source) {
        String d = dtype.trim().toLowerCase(Locale.ROOT);
        if (d.equals("f32") || d.equals("float32")) {
            return DType.F32;
        }
        if (!d.equals("source")) {
            throw LmcException.usage("--dtype", "unknown value \"" + dtype + "\"; expected f32 or source");
        }
        for (TensorInfo info : source.tensors().values()) {
            if (info.dtype() == DType.BF16 || info.dtype() == DType.F16) {
                return info.dtype();
            }
        }
        return DType.F32;
    }

    /** Slot counts per group, e.g. {@code heads x4, residual x1}. */
    private static String describe(TransformSpec spec, Transform t) {
        Map<String, Integer> counts = new TreeMap<>();
        for (Slot s : spec.slotsOf(t.groups())) {
            counts.merge(s.kind().name().toLowerCase(Locale.ROOT), s.count(), Integer::sum);
        }
        StringBuilder sb = new StringBuilder();
        counts.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(" x").append(v));
        return sb.length() == 0 ? "(none)" : sb.toString();
    }

    /** Two random sequences of 16 tokens (or two random images), seeded by --random-seed. */
    private NDArray checkInput(ModelConfig cfg, NDManager manager) {
        Random rng = new Random(seed ^ 0x5DEECE66DL);
        if (cfg.family().causalLm()) {
            int len = cfg.maxPositions() > 0 ? Math.min(16, cfg.maxPositions()) : 16;
            long[] ids = new long[2 * len];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = rng.nextInt(cfg.vocabSize());
            }
            return manager.create(ids, new Shape(2, len));
        }
        int n = 2 * cfg.numChannels() * cfg.imageSize() * cfg.imageSize();
        float[] px = new float[n];
        for (int i = 0; i < n; i++) {
            px[i] = (float) rng.nextGaussian();
        }
        return manager.create(px, new Shape(2, cfg.numChannels(), cfg.imageSize(), cfg.imageSize()));
    }
}
