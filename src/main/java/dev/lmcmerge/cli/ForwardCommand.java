package dev.lmcmerge.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.FileSystems;
import dev.lmcmerge.io.Npy;
import dev.lmcmerge.model.Losses;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.ModelLoader;
import dev.lmcmerge.model.NpyArrays;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lmc forward --model M --input-ids ids.npy --out logits.npy} (ViT: {@code --pixel-values x.npy}):
 * one float32 forward pass, logits written as {@code .npy}. Language models also print the mean
 * next-token loss of the input (Hugging Face {@code labels = input_ids}).
 */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = "Run one forward pass and write the logits as .npy (float32).")
final class ForwardCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "M",
            description = "Hugging Face model folder: local path, hdfs://, s3a:// or file://.")
    String model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--input-ids", paramLabel = "IDS.npy",
                description = "Token ids, int32 or int64, [batch, seq] or [seq] (language models).")
        String inputIds;

        @Option(names = "--pixel-values", paramLabel = "X.npy",
                description = "Pixel values, float32 or float64, [batch, channels, height, width] (ViT).")
        String pixelValues;
    }

    @Option(names = "--out", required = true, paramLabel = "LOGITS.npy",
            description = "Where to write the logits: [batch, seq, vocab] or [batch, labels], float32.")
    String out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Configuration conf = new Configuration();
        // Before the model is read: an --out under a regular file would fail only after the forward pass.
        FileSystems.requireCreatable(FileSystems.resolve(out), conf, "--out");
        PrintWriter stdout = spec.commandLine().getOut();
        try (NDManager manager = Engine.getInstance().newBaseManager();
             ModelLoader.LoadedModel m = ModelLoader.open(model, manager.newSubManager())) {
            ModelConfig cfg = m.config();
            boolean lm = cfg.family().causalLm();
            if (lm && input.inputIds == null) {
                throw LmcException.usage("--pixel-values", "model " + model + " is a " + cfg.modelType()
                        + " language model; give --input-ids");
            }
            if (!lm && input.pixelValues == null) {
                throw LmcException.usage("--input-ids", "model " + model + " is a vit image classifier; give --pixel-values");
            }
            String file = lm ? input.inputIds : input.pixelValues;
            NDArray x = NpyArrays.toNDArray(Npy.read(FileSystems.resolve(file), conf), manager);
            if (lm && x.getShape().dimension() == 1) {
                x = x.reshape(1, x.getShape().get(0));
            }
            if (!lm && x.getDataType() == DataType.FLOAT64) {
                x = x.toType(DataType.FLOAT32, false);
            }
            NDArray logits;
            try {
                logits = m.architecture().forward(m.weights(), x);
            } catch (LmcException e) {
                // The architecture checks the input array but does not know which file it came from.
                if (e.exitCode() != ExitCode.INVALID_INPUT) {
                    throw e;
                }
                throw new LmcException(ExitCode.INVALID_INPUT, FileSystems.resolve(file) + ": " + e.getMessage(), e);
            }
            Path target = FileSystems.resolve(out);
            Npy.write(target, conf, NpyArrays.toNpy(logits));
            Shape s = logits.getShape();
            if (lm && x.getShape().get(1) > 1) {
                double loss = Losses.causalLm(logits, x).getFloat();
                stdout.printf(Locale.ROOT, "logits %s written to %s; loss %.6f over %d predicted tokens%n",
                        s, target, loss, Losses.predictedTokens(x));
            } else {
                stdout.printf(Locale.ROOT, "logits %s written to %s%n", s, target);
            }
        }
        return 0;
    }
}
