package dev.lmcmerge.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lmcmerge.align.AdamSchedule;
import dev.lmcmerge.align.Alignment;
import dev.lmcmerge.align.AlphaLaw;
import dev.lmcmerge.align.Endpoints;
import dev.lmcmerge.align.LearnedMatching;
import dev.lmcmerge.align.PathCurve;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.data.DataFormat;
import dev.lmcmerge.data.Split;
import dev.lmcmerge.data.TokenDataSpec;
import dev.lmcmerge.data.TokenDataset;
import dev.lmcmerge.data.TokenDatasets;
import dev.lmcmerge.dist.Alignability;
import dev.lmcmerge.eval.Barrier;
import dev.lmcmerge.io.FileSystems;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.ModelLoader;
import dev.lmcmerge.symmetry.SlotGroup;
import dev.lmcmerge.symmetry.StandardParameterizations;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lmc barrier --model-a A --model-b B --data D [--method M]}: aligns the two models with one
 * method (in one process) and prints the loss curve of the straight line between them on an alpha
 * grid, with barrier = max_alpha [L(alpha) - ((1 - alpha) L(0) + alpha L(1))] and
 * barrier_rel = barrier / ((L(0) + L(1)) / 2).
 */
@Command(name = "barrier", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Align two models with one method and print the loss curve of their straight-line merge"
                + " and its barrier.",
                "Methods: naive (no alignment), weight-matching, activation-matching, one-sided and dual (learned"
                        + " matching started from weight matching). See docs/methods.md."})
final class BarrierCommand implements Callable<Integer> {
    @Option(names = "--model-a", required = true, paramLabel = "A", description = "Model A (alpha = 0): Hugging Face folder.")
    String modelA;

    @Option(names = "--model-b", required = true, paramLabel = "B", description = "Model B (alpha = 1): Hugging Face folder.")
    String modelB;

    @Option(names = "--data", required = true, paramLabel = "D",
            description = "Evaluation data (Parquet input_ids, .npy [N, T], or text with a tokenizer or as bytes).")
    String data;

    @Option(names = "--method", defaultValue = "naive", paramLabel = "M",
            description = "naive, weight-matching, activation-matching, one-sided or dual (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--alphas", defaultValue = "11", paramLabel = "N",
            description = "Points of the alpha grid from 0 to 1 (default: ${DEFAULT-VALUE}).")
    int alphas;

    @Option(names = "--train-data", paramLabel = "T",
            description = "Training data of learned and activation matching (default: the train split of --data;"
                    + " the curve then uses its eval split).")
    String trainData;

    @Option(names = "--steps", defaultValue = "200", paramLabel = "N", description = "Learned-matching steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--lr", defaultValue = "1e-2", paramLabel = "X", description = "Peak Adam learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--warmup", paramLabel = "N", description = "Warm-up steps (default: 10% of --steps).")
    Integer warmup;

    @Option(names = "--schedule", defaultValue = "cosine", paramLabel = "S",
            description = "Learning rate after warm-up: constant, linear or cosine (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--alpha-sampling", defaultValue = "uniform", paramLabel = "LAW",
            description = "Alpha law of learned matching: uniform (0..1), narrow (0.4..0.6), fixed or fixed:X"
                    + " (default: ${DEFAULT-VALUE}).")
    String alphaSampling;

    @Option(names = "--alphas-per-step", defaultValue = "1", paramLabel = "K",
            description = "Alpha samples averaged per learned step (default: ${DEFAULT-VALUE}).")
    int alphasPerStep;

    @Option(names = "--dual-anchor", defaultValue = "residual-a", paramLabel = "A",
            description = "How dual learning removes its flat direction: residual-a (A's residual rotation fixed)"
                    + " or penalty (L2 pull of both sides to their start) (default: ${DEFAULT-VALUE}).")
    String dualAnchor;

    @Option(names = "--penalty", defaultValue = "1e-3", paramLabel = "X",
            description = "Weight of the L2 pull for --dual-anchor penalty (default: ${DEFAULT-VALUE}).")
    double penalty;

    @Option(names = "--slots", defaultValue = "residual,heads,qk,vo,ffn,scale", paramLabel = "LIST",
            description = "Symmetry groups matching may use (default: ${DEFAULT-VALUE}).")
    String slots;

    @Option(names = "--learned-slots", paramLabel = "LIST",
            description = "Groups learned matching optimizes; the rest keep their weight-matching value (default: --slots).")
    String learnedSlots;

    @Option(names = "--rotation", defaultValue = "cayley", paramLabel = "P",
            description = "Residual rotation parameterization: cayley or expm (default: ${DEFAULT-VALUE}).")
    String rotation;

    @Option(names = "--wm-iterations", defaultValue = "15", paramLabel = "N",
            description = "Bound on weight matching's alternating rounds (default: ${DEFAULT-VALUE}).")
    int wmIterations;

    @Option(names = "--activation-batches", defaultValue = "4", paramLabel = "N",
            description = "Training batches read by activation matching (default: ${DEFAULT-VALUE}).")
    int activationBatches;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Seed of alpha sampling and batch order.")
    long seed;

    @Option(names = "--format", paramLabel = "F", description = "parquet, npy or text (default: inferred from the path).")
    String format;

    @Option(names = "--tokenizer", paramLabel = "T",
            description = "tokenizer.json for text; 'bytes' for the byte-level vocabulary (default: model A's tokenizer.json"
                    + " if it has one, else bytes).")
    String tokenizer;

    @Option(names = "--seq-len", paramLabel = "N",
            description = "Tokens per sequence (default: .npy rows as stored; else min(max_position_embeddings, 512)).")
    Integer seqLen;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "B", description = "Sequences per batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--max-batches", defaultValue = "0", paramLabel = "K",
            description = "Evaluate each alpha on the first K batches only; 0 = all (default: ${DEFAULT-VALUE}).")
    int maxBatches;

    @Option(names = "--split", paramLabel = "S",
            description = "Part of --data for the curve: all, train or eval (default: eval when the training data is"
                    + " --data's train split, else all).")
    String split;

    @Option(names = "--eval-fraction", defaultValue = "0.1", paramLabel = "F",
            description = "Share of sequences held out as the eval split (default: ${DEFAULT-VALUE}).")
    double evalFraction;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "libtorch threads; 0 = libtorch's default (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Alignment.Method m = Alignment.Method.parse(method, "--method");
        if (alphas < 2) {
            throw LmcException.usage("--alphas", "need at least 2 grid points (the two models), got " + alphas);
        }
        if (batchSize <= 0 || maxBatches < 0 || threads < 0 || steps < 1 || alphasPerStep < 1 || wmIterations < 1
                || activationBatches < 1) {
            throw LmcException.usage("--batch-size/--max-batches/--threads/--steps/--alphas-per-step/--wm-iterations",
                    "must be positive (--max-batches, --threads: >= 0)");
        }
        Split.checkFraction(evalFraction, "--eval-fraction");
        Set<SlotGroup> groups = SlotGroup.parse(slots, "--slots");
        Set<SlotGroup> learned = learnedSlots == null ? groups : SlotGroup.parse(learnedSlots, "--learned-slots");
        int warm = warmup != null ? warmup : Math.min(steps - 1, steps / 10);
        if (warm < 0 || warm >= steps) {
            throw LmcException.usage("--warmup", "must be in [0, --steps), got " + warm);
        }
        LearnedMatching.Options lo = new LearnedMatching.Options(LearnedMatching.Mode.DUAL, steps, lr, warm,
                AdamSchedule.Shape.parse(schedule), AlphaLaw.parse(alphaSampling), alphasPerStep, batchSize,
                LearnedMatching.Anchor.parse(dualAnchor), penalty, seed, Math.max(1, steps / 10));
        Alignment.Settings settings = new Alignment.Settings(groups, learned,
                StandardParameterizations.RotationForm.parse(rotation, "--rotation"), wmIterations, activationBatches, lo,
                1e-3);
        if (threads > 0) {
            JniUtils.setNumThreads(threads);
        }
        PrintWriter err = spec.commandLine().getErr();
        Configuration conf = new Configuration();
        long start = System.nanoTime();
        try (NDManager manager = Engine.getInstance().newBaseManager()) {
            ModelConfig cfg;
            try (HfCheckpoint a = HfCheckpoint.open(modelA, conf); HfCheckpoint b = HfCheckpoint.open(modelB, conf)) {
                cfg = ModelLoader.config(a);
                Alignability.check(a, cfg, b, ModelLoader.config(b));
            } catch (IOException e) {
                throw LmcException.invalidInput(modelA, "cannot close the checkpoint: " + e.getMessage());
            }
            if (!cfg.family().causalLm()) {
                throw LmcException.usage("--model-a", "barrier measures language models (next-token loss); "
                        + modelA + " is " + cfg.modelType());
            }
            try (ModelLoader.LoadedModel a = ModelLoader.open(modelA, manager.newSubManager());
                 ModelLoader.LoadedModel b = ModelLoader.open(modelB, manager.newSubManager())) {
                DataFormat f = format == null ? null : DataFormat.parse(format, "--format");
                String tok = tokenizer != null ? tokenizer : modelTokenizer(conf);
                int len = seqLen != null ? seqLen : defaultSeqLen(f, cfg);
                TokenDataset all = TokenDatasets.load(new TokenDataSpec(data, f, tok, len), conf).requireVocab(cfg.vocabSize());
                TokenDataset train;
                Split evalPart;
                if (trainData != null) {
                    train = TokenDatasets.load(new TokenDataSpec(trainData, null, tok, all.seqLen()), conf)
                            .requireVocab(cfg.vocabSize());
                    evalPart = split == null ? Split.ALL : Split.parse(split, "--split");
                } else {
                    train = all.split(Split.TRAIN, evalFraction);
                    evalPart = split == null ? Split.EVAL : Split.parse(split, "--split");
                }
                TokenDataset eval = all.split(evalPart, evalFraction).requireNonEmpty(evalPart.cliName() + " split");
                double[] grid = Barrier.grid(alphas);
                double[] losses;
                try (Endpoints e = Alignment.align(m, a.architecture(), a.weights(), b.weights(), train, settings,
                        line -> { err.println("lmc: " + line); err.flush(); })) {
                    losses = PathCurve.losses(e, grid, eval, batchSize, maxBatches, null);
                }
                Barrier barrier = Barrier.of(grid, losses);
                print(m, grid, losses, barrier, eval, (System.nanoTime() - start) / 1e9);
            }
        }
        return 0;
    }

    private void print(Alignment.Method m, double[] grid, double[] losses, Barrier barrier, TokenDataset eval, double seconds) {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectMapper om = new ObjectMapper();
            ObjectNode o = om.createObjectNode();
            o.put("method", m.key());
            ArrayNode as = o.putArray("alphas");
            ArrayNode ls = o.putArray("losses");
            for (int i = 0; i < grid.length; i++) {
                as.add(grid[i]);
                ls.add(losses[i]);
            }
            o.put("barrier", barrier.barrier());
            o.put("barrier_rel", barrier.barrierRel());
            o.put("argmax_alpha", barrier.argmaxAlpha());
            o.put("loss_a", barrier.lossA());
            o.put("loss_b", barrier.lossB());
            o.put("model_a", modelA);
            o.put("model_b", modelB);
            o.put("data", data);
            o.put("sequences", eval.size());
            o.put("seconds", seconds);
            out.println(o.toString());
        } else {
            out.printf(Locale.ROOT, "method      %s%n", m.key());
            out.printf(Locale.ROOT, "models      A %s, B %s%n", modelA, modelB);
            out.printf(Locale.ROOT, "data        %s (%d sequences of %d tokens)%n", data, eval.size(), eval.seqLen());
            out.printf(Locale.ROOT, "%n  alpha     loss%n");
            for (int i = 0; i < grid.length; i++) {
                out.printf(Locale.ROOT, "  %5.3f  %8.5f%n", grid[i], losses[i]);
            }
            out.printf(Locale.ROOT, "%nbarrier     %.5f (at alpha %.3f)%n", barrier.barrier(), barrier.argmaxAlpha());
            out.printf(Locale.ROOT, "barrier_rel %.5f%n", barrier.barrierRel());
            out.printf(Locale.ROOT, "time        %.1f s%n", seconds);
        }
        out.flush();
    }

    private String modelTokenizer(Configuration conf) {
        Path t = new Path(FileSystems.resolve(modelA), "tokenizer.json");
        return FileSystems.exists(t, conf) ? t.toString() : null;
    }

    private int defaultSeqLen(DataFormat f, ModelConfig cfg) {
        boolean npy = f == DataFormat.NPY || (f == null && data.toLowerCase(Locale.ROOT).endsWith(".npy"));
        return npy ? 0 : Math.min(cfg.maxPositions(), EvalCommand.DEFAULT_MAX_SEQ_LEN);
    }
}
