package dev.lmcmerge.demo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.CosineTracker;
import ai.djl.training.tracker.Tracker;
import ai.djl.training.tracker.WarmUpTracker;
import dev.lmcmerge.data.DataFormat;
import dev.lmcmerge.data.Split;
import dev.lmcmerge.data.TokenDataSpec;
import dev.lmcmerge.data.TokenDataset;
import dev.lmcmerge.data.TokenDatasets;
import dev.lmcmerge.eval.Evaluation;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.HfCheckpointWriter;
import dev.lmcmerge.io.TensorSource;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Architectures;
import dev.lmcmerge.model.Losses;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.TensorSpec;
import dev.lmcmerge.model.Weights;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;

/**
 * Trains a small GPT-NeoX language model on the TRAIN split of a text with the byte-level
 * vocabulary and writes it as a Hugging Face folder. The forward pass is the project's own
 * {@link Architecture} (the same code every other command runs), differentiated by DJL
 * autograd; AdamW from DJL with linear warm-up then cosine decay to a tenth of the peak rate.
 *
 * <p>Deterministic: the initialization and the batch order come from seeded Java generators,
 * and libtorch runs a fixed number of threads, so a seed (with the same options and thread
 * count) always writes the same bytes.
 */
public final class DemoTrainer {
    /** Seed offset for the batch-order generator, so it never shares a stream with the initialization. */
    private static final long BATCH_STREAM = 0x9E3779B97F4A7C15L;

    private DemoTrainer() {}

    /** What a run did. */
    public record Result(long parameters, double firstLoss, double finalTrainLoss, double evalLoss,
                         long evalTokens, double tokensPerSecond) {}

    /**
     * Trains and writes {@code options.out()}.
     *
     * @param log progress lines (step, loss, learning rate, tokens/s)
     */
    public static Result train(TrainOptions options, PrintWriter log) {
        Configuration conf = new Configuration();
        DemoModelConfig shape = options.model();
        TokenDataset all = TokenDatasets.load(new TokenDataSpec(options.text(), DataFormat.TEXT, null,
                shape.seqLen()), conf);
        TokenDataset train = all.split(Split.TRAIN, Split.DEFAULT_EVAL_FRACTION).requireNonEmpty("train split");
        TokenDataset eval = all.split(Split.EVAL, Split.DEFAULT_EVAL_FRACTION);
        ModelConfig cfg = ModelConfig.parse(shape.toJson(), "train-demo config");
        Architecture arch = Architectures.of(cfg);

        Engine engine = Engine.getInstance(); // loads libtorch, which the thread setting needs
        JniUtils.setNumThreads(options.threads());
        try (NDManager root = engine.newBaseManager()) {
            Weights w = WeightInit.initialize(arch, root, options.seed(), DemoModelConfig.INIT_STD);
            List<String> names = new ArrayList<>(w.names());
            long parameters = 0;
            for (String n : names) {
                w.get(n).setRequiresGradient(true);
                parameters += w.get(n).size();
            }
            Tracker schedule = schedule(options);
            Optimizer decayed = Optimizer.adamW().optLearningRateTracker(schedule)
                    .optWeightDecays((float) options.weightDecay()).build();
            Optimizer plain = Optimizer.adamW().optLearningRateTracker(schedule).optWeightDecays(0f).build();

            Random order = new Random(options.seed() ^ BATCH_STREAM);
            int b = options.batchSize();
            int t = shape.seqLen();
            int every = Math.max(1, options.steps() / 20);
            double first = Double.NaN;
            double recentSum = 0;
            int recentCount = 0;
            int recentWindow = Math.max(1, Math.min(50, options.steps() / 5));
            Set<String> decay = decayed(arch);
            long start = System.nanoTime();
            for (int step = 1; step <= options.steps(); step++) {
                long[] ids = new long[b * t];
                for (int i = 0; i < b; i++) {
                    System.arraycopy(train.row(order.nextInt(train.size())), 0, ids, i * t, t);
                }
                double loss;
                try (NDManager sm = root.newSubManager()) {
                    NDArray batch = sm.create(ids, new Shape(b, t));
                    try (GradientCollector gc = engine.newGradientCollector()) {
                        NDArray l = Losses.causalLm(arch.forward(w, batch), batch);
                        gc.backward(l);
                        loss = l.getFloat();
                    }
                    List<NDArray> grads = new ArrayList<>(names.size());
                    for (String n : names) {
                        NDArray g = w.get(n).getGradient();
                        g.attach(sm);
                        grads.add(g);
                    }
                    clip(grads, TrainOptions.CLIP_NORM);
                    for (int i = 0; i < names.size(); i++) {
                        NDArray p = w.get(names.get(i));
                        (decay.contains(names.get(i)) ? decayed : plain).update(names.get(i), p, grads.get(i));
                        grads.get(i).subi(grads.get(i)); // libtorch accumulates gradients: reset for the next step
                    }
                }
                if (step == 1) {
                    first = loss;
                }
                if (step > options.steps() - recentWindow) {
                    recentSum += loss;
                    recentCount++;
                }
                double tokensPerSecond = (double) step * b * t / Math.max(1e-9, (System.nanoTime() - start) / 1e9);
                if (step % every == 0 || step == options.steps() || step == 1) {
                    log.printf(Locale.ROOT, "train-demo: step %d/%d  loss %.4f  lr %.2e  %.0f tokens/s%n", step,
                            options.steps(), loss, schedule.getNewValue(step), tokensPerSecond);
                    log.flush();
                }
            }
            double tokensPerSecond = (double) options.steps() * b * t / Math.max(1e-9, (System.nanoTime() - start) / 1e9);
            Evaluation.Result ev = null;
            if (options.evalBatches() > 0 && !eval.isEmpty()) {
                ev = Evaluation.causalLm(arch, w, eval, b, options.evalBatches(), null);
            }
            write(options, shape, arch, w, conf);
            return new Result(parameters, first, recentSum / recentCount, ev == null ? Double.NaN : ev.loss(),
                    ev == null ? 0 : ev.tokens(), tokensPerSecond);
        }
    }

    /** Linear warm-up from 0 to the peak, then cosine to a tenth of it at the last step. */
    static Tracker schedule(TrainOptions o) {
        int warm = Math.min(o.warmup(), o.steps() - 1);
        Tracker cosine = CosineTracker.builder().setBaseValue((float) o.lr()).optFinalValue((float) (o.lr() / 10))
                .setMaxUpdates(Math.max(1, o.steps() - warm)).build();
        if (warm == 0) {
            return cosine;
        }
        return WarmUpTracker.builder().setMainTracker(cosine).optWarmUpSteps(warm).optWarmUpBeginValue(0f)
                .optWarmUpMode(WarmUpTracker.Mode.LINEAR).build();
    }

    /** Weight decay applies to matrices and embeddings, not to biases or norm parameters. */
    private static Set<String> decayed(Architecture arch) {
        Set<String> names = new HashSet<>();
        for (TensorSpec s : arch.tensors()) {
            if (s.shape().length >= 2 && s.role() != TensorSpec.Role.NORM) {
                names.add(s.name());
            }
        }
        return names;
    }

    /** Scales all gradients down together so their global L2 norm is at most {@code max}. */
    private static void clip(List<NDArray> grads, double max) {
        double sq = 0;
        for (NDArray g : grads) {
            sq += g.square().sum().getFloat();
        }
        double norm = Math.sqrt(sq);
        if (norm > max) {
            for (NDArray g : grads) {
                g.muli((float) (max / norm));
            }
        }
    }

    private static void write(TrainOptions o, DemoModelConfig shape, Architecture arch, Weights w, Configuration conf) {
        List<TensorSource> tensors = new ArrayList<>();
        for (TensorSpec s : arch.tensors()) {
            if (!s.tied()) {
                tensors.add(TensorSource.ofFloats(s.name(), s.shape(), w.get(s.name()).toFloatArray(), DType.F32));
            }
        }
        HfCheckpointWriter.to(o.out(), conf).overwrite(o.overwrite()).write(shape.toJson(), tensors);
    }
}
