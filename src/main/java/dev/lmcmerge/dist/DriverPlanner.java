package dev.lmcmerge.dist;

import dev.lmcmerge.config.DataConfig;
import dev.lmcmerge.config.JobConfig;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.data.DataFormat;
import dev.lmcmerge.data.Split;
import dev.lmcmerge.data.TokenDataSpec;
import dev.lmcmerge.data.TokenDataset;
import dev.lmcmerge.data.TokenDatasets;
import dev.lmcmerge.io.FileSystems;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.ModelLoader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * Makes the {@link MergePlan} on the driver: opens both checkpoints for their configuration and
 * safetensors headers (never a weight), checks they can be aligned, plans layer blocks, and
 * loads the token data (tokens, not weights: small next to the models) to cut it into steps and
 * held-out partitions.
 */
public final class DriverPlanner {
    private DriverPlanner() {}

    /**
     * @param parallelism tasks the cluster runs at once (Spark's default parallelism); only caps
     *                    the number of partitions, never changes what is computed
     * @throws LmcException USAGE for missing keys, INVALID_INPUT for bad checkpoints or data,
     *                      INCOMPATIBLE_MODELS when the models cannot be aligned
     */
    public static MergePlan plan(JobConfig job, Configuration conf, int parallelism) {
        String locA = JobConfig.require(job.modelA(), "lmc.model-a");
        String locB = JobConfig.require(job.modelB(), "lmc.model-b");
        JobConfig.require(job.data().eval(), "lmc.data.eval");
        JobConfig.require(job.output().path(), "lmc.output.path");
        ModelHeader a;
        ModelHeader b;
        try (HfCheckpoint ca = HfCheckpoint.open(locA, conf); HfCheckpoint cb = HfCheckpoint.open(locB, conf)) {
            ModelConfig cfgA = ModelConfig.parse(ca.config(), new Path(ca.folder(), "config.json").toString());
            ModelConfig cfgB = ModelConfig.parse(cb.config(), new Path(cb.folder(), "config.json").toString());
            // A broken checkpoint is invalid input (exit 3), not a pair that cannot be aligned (exit 4).
            ModelLoader.checkTensors(ca, cfgA);
            ModelLoader.checkTensors(cb, cfgB);
            Alignability.check(ca, cfgA, cb, cfgB);
            a = ModelHeader.of(ca, cfgA);
            b = ModelHeader.of(cb, cfgB);
        } catch (IOException e) {
            throw FileSystems.ioError(locA, "cannot close checkpoint", e);
        }
        if (!a.config().family().causalLm()) {
            throw LmcException.usage("lmc.model-a", a.config().modelType() + " models (image classifiers) are not"
                    + " supported by the merge job yet; expected a language model (gpt_neox, llama, gpt2)");
        }
        List<LayerBlock> blocks = blocks(a.config().numLayers());
        Optional<String> tokenizerOfA = a.tokenizerFiles().stream().filter(p -> p.endsWith("/tokenizer.json"))
                .findFirst();
        DataPlan data = planData(job, conf, parallelism, tokenizerOfA, a.config());
        return new MergePlan(job, a, b, blocks, data, job.eval().alphaGrid());
    }

    /** One block per layer: weight matching and gradient recomputation work on one layer at a time. */
    static List<LayerBlock> blocks(int layers) {
        List<LayerBlock> out = new ArrayList<>(layers);
        for (int l = 0; l < layers; l++) {
            out.add(new LayerBlock(l, l, l + 1));
        }
        return out;
    }

    static DataPlan planData(JobConfig job, Configuration conf, int parallelism, Optional<String> tokenizerOfA,
                             ModelConfig model) {
        DataConfig d = job.data();
        String evalLoc = d.eval().orElseThrow();
        String trainLoc = d.train().orElse(evalLoc);
        boolean shared = trainLoc.equals(evalLoc);
        String tokenizer = d.tokenizer().orElse(tokenizerOfA.orElse(null));
        TokenDataset evalAll = load(evalLoc, d, tokenizer, conf, "lmc.data.eval");
        TokenDataset eval;
        TokenDataset train;
        String pct = String.format(Locale.ROOT, "%.0f%%", 100 * d.evalFraction());
        String evalSource;
        String trainSource;
        if (shared) {
            eval = evalAll.split(Split.EVAL, d.evalFraction());
            train = evalAll.split(Split.TRAIN, d.evalFraction());
            evalSource = evalLoc + " (last " + pct + ", the held-out split)";
            trainSource = evalLoc + " (the rest, the training split)";
        } else {
            eval = evalAll;
            train = load(trainLoc, d, tokenizer, conf, "lmc.data.train");
            evalSource = evalLoc;
            trainSource = trainLoc;
        }
        eval.requireNonEmpty("the held-out data (lmc.data.eval)").requireVocab(model.vocabSize());
        if (job.align().methods().stream().anyMatch(m -> m.name().equals("ONE_SIDED") || m.name().equals("DUAL")
                || m.name().equals("ACTIVATION_MATCHING"))) {
            train.requireNonEmpty("the training data (lmc.data.train)").requireVocab(model.vocabSize());
        }
        int batch = d.batchSize();
        int available = eval.numBatches(batch);
        int evalBatches = job.eval().maxBatches() > 0 ? Math.min(available, job.eval().maxBatches()) : available;
        int evalSeqs = Math.min(eval.size(), evalBatches * batch);
        int p = Math.max(1, parallelism);
        int evalParts = Math.max(1, Math.min(evalSeqs, p));
        int stepParts = Math.max(1, Math.min(Math.min(batch, Math.max(1, train.size())), p));
        return new DataPlan(train, eval, trainSource, evalSource, batch, evalBatches, evalParts, stepParts);
    }

    private static TokenDataset load(String location, DataConfig d, String tokenizer, Configuration conf, String key) {
        DataFormat format = switch (d.format()) {
            case AUTO -> null;
            case PARQUET -> DataFormat.PARQUET;
            case NPY -> DataFormat.NPY;
            case TEXT -> DataFormat.TEXT;
            case IMAGES -> throw LmcException.usage("lmc.data.format", "images are not supported by the merge job"
                    + " yet; expected auto, parquet, npy or text token data");
        };
        try {
            return TokenDatasets.load(new TokenDataSpec(location, format, tokenizer, d.seqLen()), conf);
        } catch (LmcException e) {
            if (e.getMessage().startsWith(key)) {
                throw e;
            }
            throw new LmcException(e.exitCode(), key + " = " + location + ": " + e.getMessage(), e);
        }
    }
}
