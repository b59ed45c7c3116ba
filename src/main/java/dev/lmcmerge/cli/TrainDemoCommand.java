package dev.lmcmerge.cli;

import dev.lmcmerge.demo.DemoModelConfig;
import dev.lmcmerge.demo.DemoPaths;
import dev.lmcmerge.demo.DemoTrainer;
import dev.lmcmerge.demo.TrainOptions;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lmc train-demo --out DIR --seed N}: trains a small byte-level GPT-NeoX model on the
 * bundled text (see {@link DemoTrainer}) and writes a Hugging Face folder. Progress goes to
 * stderr, the summary to stdout.
 */
@Command(name = "train-demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a small GPT-NeoX language model (byte-level vocabulary) on the train split of a text"
                + " and write it as a Hugging Face folder. Deterministic for a seed and thread count."})
final class TrainDemoCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output Hugging Face folder.")
    String out;

    @Option(names = "--seed", required = true, paramLabel = "N", description = "Seed of the initialization and batch order.")
    long seed;

    @Option(names = "--text", paramLabel = "FILE",
            description = "Training text, UTF-8, plain or .gz (default: the bundled " + DemoPaths.TEXT + ").")
    String text;

    @Option(names = "--layers", defaultValue = "2", description = "Transformer blocks (default: ${DEFAULT-VALUE}).")
    int layers;

    @Option(names = "--width", defaultValue = "64", description = "Residual width hidden_size (default: ${DEFAULT-VALUE}).")
    int width;

    @Option(names = "--heads", defaultValue = "4", description = "Attention heads (default: ${DEFAULT-VALUE}).")
    int heads;

    @Option(names = "--seq-len", defaultValue = "64", description = "Training context in bytes (default: ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--batch-size", defaultValue = "16", description = "Sequences per step (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--steps", defaultValue = "400", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--lr", defaultValue = "3e-3", description = "Peak AdamW learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--warmup", paramLabel = "STEPS",
            description = "Linear warm-up steps before the cosine decay (default: 5% of --steps).")
    Integer warmup;

    @Option(names = "--weight-decay", defaultValue = "0.1",
            description = "AdamW weight decay on matrices and embeddings (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--eval-batches", defaultValue = "32",
            description = "Batches of the eval split scored at the end; 0 skips (default: ${DEFAULT-VALUE}).")
    int evalBatches;

    @Option(names = "--threads", defaultValue = "1",
            description = "libtorch threads; results are bit-identical for the same seed and thread count"
                    + " (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--overwrite", description = "Replace --out if it exists.")
    boolean overwrite;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        String textFile = text != null ? text : DemoPaths.defaultText().toString();
        int warm = warmup != null ? warmup : Math.max(1, steps / 20);
        TrainOptions options = new TrainOptions(out, overwrite, seed, textFile,
                new DemoModelConfig(layers, width, heads, seqLen), batchSize, steps, lr, warm, weightDecay,
                evalBatches, threads);
        DemoTrainer.Result r = DemoTrainer.train(options, spec.commandLine().getErr());
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "wrote %s: gpt_neox, %d layers, width %d, %d heads, %,d parameters%n", out, layers, width,
                heads, r.parameters());
        o.printf(Locale.ROOT, "train loss %.4f -> %.4f (mean of the last steps), %.0f tokens/s%n", r.firstLoss(),
                r.finalTrainLoss(), r.tokensPerSecond());
        if (!Double.isNaN(r.evalLoss())) {
            o.printf(Locale.ROOT, "eval loss %.4f (perplexity %.3f) on %,d held-out tokens%n", r.evalLoss(),
                    Math.exp(r.evalLoss()), r.evalTokens());
        }
        return 0;
    }
}
