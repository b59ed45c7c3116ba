package dev.lmcmerge.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.HfCheckpointWriter;
import dev.lmcmerge.io.TensorSource;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Architectures;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.TensorSpec;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * A tiny pair for end-to-end runs on remote stores: 2-layer GPT-NeoX models with a byte-level
 * vocabulary (so plain text is their data) and random weights per seed, written through the io
 * package to any Hadoop location, and English-like text to go with them.
 */
final class TinyPair {
    static final String CONFIG = """
            {"model_type": "gpt_neox", "architectures": ["GPTNeoXForCausalLM"], "hidden_size": 16,
             "num_attention_heads": 4, "num_hidden_layers": 2, "intermediate_size": 32, "vocab_size": 256,
             "rotary_pct": 0.5, "rotary_emb_base": 10000, "layer_norm_eps": 1e-5, "use_parallel_residual": true,
             "tie_word_embeddings": false, "max_position_embeddings": 64, "hidden_act": "gelu"}""";

    private TinyPair() {}

    /** The model's tensor names, in model order. */
    static List<String> tensorNames() {
        return architecture().tensors().stream().filter(t -> !t.tied()).map(TensorSpec::name).toList();
    }

    private static JsonNode config() {
        try {
            return new ObjectMapper().readTree(CONFIG);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Architecture architecture() {
        return Architectures.of(ModelConfig.parse(config(), "tiny"));
    }

    /** Writes a model with random weights from {@code seed} to the folder {@code location}. */
    static void writeModel(String location, long seed, Configuration conf) {
        Random rng = new Random(seed);
        List<TensorSource> sources = new ArrayList<>();
        for (TensorSpec t : architecture().tensors()) {
            if (t.tied()) {
                continue;
            }
            long[] s = t.shape();
            float[] v = new float[(int) t.numel()];
            boolean normWeight = t.role() == TensorSpec.Role.NORM && t.name().endsWith("weight");
            double fanIn = s.length >= 2 ? (double) v.length / s[0] : 1;
            for (int i = 0; i < v.length; i++) {
                v[i] = normWeight ? (float) (0.8 + 0.4 * rng.nextDouble())
                        : s.length == 1 ? (float) (0.1 * rng.nextGaussian())
                        : (float) (rng.nextGaussian() / Math.sqrt(fanIn));
            }
            sources.add(TensorSource.ofFloats(t.name(), s, v, DType.F32));
        }
        HfCheckpointWriter.to(location, conf).write(config(), sources);
    }

    /** Writes about {@code bytes} of deterministic text to the file {@code location}. */
    static void writeText(String location, int bytes, Configuration conf) throws IOException {
        String[] words = {"the", "light", "of", "day", "and", "night", "upon", "waters", "land", "was", "good",
            "he", "said", "let", "there", "be", "in", "beginning", "heaven", "earth"};
        Random rng = new Random(42);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < bytes) {
            sb.append(words[rng.nextInt(words.length)]).append(rng.nextInt(12) == 0 ? ".\n" : " ");
        }
        Path p = new Path(location);
        try (OutputStream out = p.getFileSystem(conf).create(p, true)) {
            out.write(sb.substring(0, bytes).getBytes(StandardCharsets.US_ASCII));
        }
    }
}
