package dev.lmcmerge.dist;

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
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;

/**
 * Tiny checkpoints and data for the dist tests (not a test class): a 2-layer gpt_neox with a
 * byte-level vocabulary (so plain text is its data), random weights per seed (norm weights and
 * biases random too, so canonicalization has work to do), and a deterministic English-like text.
 */
final class TinyCheckpoints {
    static final String CONFIG = """
            {"model_type": "gpt_neox", "architectures": ["GPTNeoXForCausalLM"], "hidden_size": 16,
             "num_attention_heads": 4, "num_hidden_layers": 2, "intermediate_size": 32, "vocab_size": 256,
             "rotary_pct": 0.5, "rotary_emb_base": 10000, "layer_norm_eps": 1e-5, "use_parallel_residual": true,
             "tie_word_embeddings": false, "max_position_embeddings": 64, "hidden_act": "gelu"}""";

    private TinyCheckpoints() {}

    static JsonNode config(String json) {
        try {
            return new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes a model with random weights from {@code seed} to {@code dir} (a Hadoop location). */
    static void write(String dir, String configJson, long seed, Configuration conf) {
        JsonNode cfg = config(configJson);
        Architecture arch = Architectures.of(ModelConfig.parse(cfg, "tiny"));
        Random rng = new Random(seed);
        List<TensorSource> sources = new ArrayList<>();
        for (TensorSpec t : arch.tensors()) {
            if (t.tied()) {
                continue;
            }
            long[] s = t.shape();
            float[] v = new float[(int) t.numel()];
            boolean norm = t.role() == TensorSpec.Role.NORM;
            double fanIn = s.length >= 2 ? (double) v.length / s[0] : 1;
            for (int i = 0; i < v.length; i++) {
                if (norm && t.name().endsWith("weight")) {
                    v[i] = (float) (0.8 + 0.4 * rng.nextDouble());
                } else if (norm || s.length == 1) {
                    v[i] = (float) (0.1 * rng.nextGaussian());
                } else {
                    v[i] = (float) (rng.nextGaussian() / Math.sqrt(fanIn));
                }
            }
            sources.add(TensorSource.ofFloats(t.name(), s, v, DType.F32));
        }
        HfCheckpointWriter.to(dir, conf).write(cfg, sources);
    }

    /** Writes about {@code bytes} of deterministic text to {@code file}. */
    static void writeText(Path file, int bytes) {
        String[] words = {"the", "light", "of", "day", "and", "night", "upon", "waters", "land", "was", "good",
            "he", "said", "let", "there", "be", "in", "beginning", "heaven", "earth"};
        Random rng = new Random(42);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < bytes) {
            sb.append(words[rng.nextInt(words.length)]).append(rng.nextInt(12) == 0 ? ".\n" : " ");
        }
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, sb.substring(0, bytes), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
