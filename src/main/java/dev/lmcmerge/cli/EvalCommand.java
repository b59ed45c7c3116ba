package dev.lmcmerge.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.data.DataFormat;
import dev.lmcmerge.data.ImageDataset;
import dev.lmcmerge.data.ImageDatasets;
import dev.lmcmerge.data.ImagePreprocessing;
import dev.lmcmerge.data.Split;
import dev.lmcmerge.data.TokenDataSpec;
import dev.lmcmerge.data.TokenDataset;
import dev.lmcmerge.data.TokenDatasets;
import dev.lmcmerge.eval.Evaluation;
import dev.lmcmerge.eval.ProgressMeter;
import dev.lmcmerge.io.FileSystems;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.ModelLoader;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lmc eval --model M --data D}: the loss of a model on a dataset (and perplexity for
 * language models, accuracy for ViT), with token and example counts. Progress goes to stderr
 * once a run takes more than two seconds.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Score a model on a dataset: loss and perplexity (language models) or loss and"
                + " accuracy (ViT on Parquet images).",
                "Data: Parquet with an input_ids list column, .npy int array [N, T], text (plain or .gz) with a"
                        + " tokenizer.json or as bytes, or Parquet images (image bytes + label) for ViT."})
final class EvalCommand implements Callable<Integer> {
    /** Default context for streams cut into sequences, when the model allows that much. */
    static final int DEFAULT_MAX_SEQ_LEN = 512;

    @Option(names = "--model", required = true, paramLabel = "M",
            description = "Hugging Face model folder: local path, hdfs://, s3a:// or file://.")
    String model;

    @Option(names = "--data", required = true, paramLabel = "D", description = "Dataset file or folder (any Hadoop file system).")
    String data;

    @Option(names = "--format", paramLabel = "F",
            description = "parquet, npy or text for token data (default: inferred from the path; images for ViT).")
    String format;

    @Option(names = "--tokenizer", paramLabel = "T",
            description = "tokenizer.json (or its folder) for text; 'bytes' for the byte-level vocabulary"
                    + " (default: the model folder's tokenizer.json if it has one, else bytes).")
    String tokenizer;

    @Option(names = "--seq-len", paramLabel = "N",
            description = "Tokens per sequence (default: .npy rows as stored; else min(max_position_embeddings, "
                    + DEFAULT_MAX_SEQ_LEN + ")).")
    Integer seqLen;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "B",
            description = "Sequences or images per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--max-batches", defaultValue = "0", paramLabel = "K",
            description = "Score only the first K batches; 0 = all (default: ${DEFAULT-VALUE}).")
    int maxBatches;

    @Option(names = "--split", defaultValue = "all", paramLabel = "S",
            description = "all, train or eval: the last --eval-fraction of sequences is eval (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--eval-fraction", defaultValue = "0.1", paramLabel = "F",
            description = "Share of sequences (or images) held out as the eval split (default: ${DEFAULT-VALUE}).")
    double evalFraction;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "libtorch threads; 0 = libtorch's default, one per core (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Split part = Split.parse(split, "--split");
        Split.checkFraction(evalFraction, "--eval-fraction");
        if (batchSize <= 0) {
            throw LmcException.usage("--batch-size", "must be positive, got " + batchSize);
        }
        if (maxBatches < 0) {
            throw LmcException.usage("--max-batches", "must be >= 0, got " + maxBatches);
        }
        if (seqLen != null && seqLen < 2) {
            throw LmcException.usage("--seq-len", "must be at least 2 (one token predicts the next), got " + seqLen);
        }
        if (threads < 0) {
            throw LmcException.usage("--threads", "must be >= 0, got " + threads);
        }
        Configuration conf = new Configuration();
        PrintWriter err = spec.commandLine().getErr();
        long start = System.nanoTime();
        Engine engine = Engine.getInstance();
        if (threads > 0) {
            JniUtils.setNumThreads(threads);
        }
        try (NDManager manager = engine.newBaseManager();
             ModelLoader.LoadedModel m = ModelLoader.open(model, manager)) {
            ModelConfig cfg = m.config();
            ObjectNode report = new ObjectMapper().createObjectNode();
            report.put("model", model);
            report.put("model_type", cfg.modelType());
            report.put("data", data);
            report.put("split", part.cliName());
            Evaluation.Result r;
            if (cfg.family().causalLm()) {
                if ("images".equalsIgnoreCase(format)) {
                    throw LmcException.usage("--format", "images need a ViT model; " + model + " is " + cfg.modelType());
                }
                DataFormat f = format == null ? null : DataFormat.parse(format, "--format");
                String tok = tokenizer != null ? tokenizer : modelTokenizer(conf);
                int len = seqLen != null ? seqLen : defaultSeqLen(f, cfg);
                TokenDataSpec dataSpec = new TokenDataSpec(data, f, tok, len);
                DataFormat actual = TokenDatasets.format(dataSpec, conf);
                TokenDataset all = TokenDatasets.load(dataSpec, conf);
                TokenDataset ds = all.split(part, evalFraction).requireNonEmpty(part.cliName() + " split")
                        .requireVocab(cfg.vocabSize());
                int batches = Evaluation.plannedBatches(ds.numBatches(batchSize), maxBatches);
                r = Evaluation.causalLm(m.architecture(), m.weights(), ds, batchSize, maxBatches,
                        new ProgressMeter(err, "eval", batches, "tokens"));
                report.put("format", actual.cliName());
                if (actual == DataFormat.TEXT) {
                    report.put("tokenizer", dataSpec.byteLevel() ? "bytes" : tok);
                }
                report.put("seq_len", ds.seqLen());
                report.put("sequences_in_split", ds.size());
            } else {
                if (format != null && !"images".equalsIgnoreCase(format) && !"parquet".equalsIgnoreCase(format)) {
                    throw LmcException.usage("--format", cfg.modelType() + " scores images: expected images (Parquet)");
                }
                ImagePreprocessing prep = ImagePreprocessing.fromModel(model, conf);
                ImageDataset ds = ImageDatasets.load(data, conf).split(part, evalFraction)
                        .requireNonEmpty(part.cliName() + " split").requireLabels(cfg.numLabels());
                int batches = Evaluation.plannedBatches(ds.numBatches(batchSize), maxBatches);
                r = Evaluation.classification(m.architecture(), m.weights(), ds, prep, batchSize, maxBatches,
                        new ProgressMeter(err, "eval", batches, "images"));
                report.put("format", "images");
                report.put("images_in_split", ds.size());
            }
            report.put("kind", r.kind());
            report.put("loss", r.loss());
            if (r.kind().equals("causal_lm")) {
                report.put("perplexity", r.perplexity());
                report.put("sequences", r.examples());
                report.put("tokens", r.tokens());
                report.put("predicted_tokens", r.predictions());
            } else {
                report.put("accuracy", r.accuracy());
                report.put("images", r.examples());
            }
            report.put("batches", r.batches());
            report.put("seconds", (System.nanoTime() - start) / 1e9);
            PrintWriter out = spec.commandLine().getOut();
            out.println(json ? report.toString() : text(r, report));
            out.flush();
        }
        return 0;
    }

    /** The model folder's tokenizer.json when it has one (text data then means the model's tokens). */
    private String modelTokenizer(Configuration conf) {
        Path t = new Path(FileSystems.resolve(model), "tokenizer.json");
        return FileSystems.exists(t, conf) ? t.toString() : null;
    }

    /** .npy rows keep their length; streams are cut to the model's context, at most {@link #DEFAULT_MAX_SEQ_LEN}. */
    private int defaultSeqLen(DataFormat f, ModelConfig cfg) {
        boolean npy = f == DataFormat.NPY || (f == null && data.toLowerCase(Locale.ROOT).endsWith(".npy"));
        return npy ? 0 : Math.min(cfg.maxPositions(), DEFAULT_MAX_SEQ_LEN);
    }

    private static String text(Evaluation.Result r, ObjectNode report) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "model       %s (%s)%n", report.get("model").asText(), report.get("model_type").asText()));
        s.append(String.format(Locale.ROOT, "data        %s (split %s)%n", report.get("data").asText(), report.get("split").asText()));
        s.append(String.format(Locale.ROOT, "loss        %.6f%n", r.loss()));
        if (r.kind().equals("causal_lm")) {
            s.append(String.format(Locale.ROOT, "perplexity  %.4f%n", r.perplexity()));
            s.append(String.format(Locale.ROOT, "sequences   %,d of %d tokens (%,d tokens, %,d predicted)%n", r.examples(),
                    report.get("seq_len").asInt(), r.tokens(), r.predictions()));
        } else {
            s.append(String.format(Locale.ROOT, "accuracy    %.4f%n", r.accuracy()));
            s.append(String.format(Locale.ROOT, "images      %,d%n", r.examples()));
        }
        s.append(String.format(Locale.ROOT, "batches     %d in %.1f s", r.batches(), report.get("seconds").asDouble()));
        return s.toString();
    }
}
