package dev.lmcmerge.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.model.Architectures;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.ModelLoader;
import dev.lmcmerge.model.TensorSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Timeout;

/**
 * Any bytes as {@code config.json} of a model folder: the folder's JSON reading and
 * {@link ModelConfig#parse} accept it or refuse it with INVALID_INPUT naming the file; an
 * accepted config yields an architecture whose tensor table (built before any weight is compared
 * with the file) is finite and has positive dimensions.
 */
class ModelConfigFuzzTest {
    private static final Path FOLDER = FuzzFiles.scratch("config");

    static {
        FuzzFiles.write(FOLDER.resolve("model.safetensors"), FuzzFiles.safetensors(Map.of("w", new long[] {1})));
    }

    @Timeout(10)
    @DictionaryEntries({"\"model_type\"", "\"gpt_neox\"", "\"llama\"", "\"qwen2\"", "\"mistral\"", "\"gpt2\"",
            "\"vit\"", "\"num_hidden_layers\"", "\"hidden_size\"", "\"num_attention_heads\"",
            "\"num_key_value_heads\"", "\"head_dim\"", "\"intermediate_size\"", "\"vocab_size\"", "\"rope_scaling\"",
            "\"rope_parameters\"", "\"rope_type\"", "\"llama3\"", "\"linear\"", "\"factor\"", "\"rotary_pct\"",
            "\"partial_rotary_factor\"", "\"image_size\"", "\"patch_size\"", "\"num_channels\"", "\"id2label\"",
            "\"n_inner\"", "\"n_embd\"", "\"n_head\"", "\"n_layer\"", "\"n_positions\"", "\"sliding_window\"",
            "\"use_sliding_window\"", "\"max_window_layers\"", "\"hidden_act\"", "\"full_attention\"", "null",
            "true", "2147483647", "1e308", "-0.0", "NaN"})
    @FuzzTest(maxDuration = "30s")
    void configJson(byte[] json) {
        FuzzFiles.write(FOLDER.resolve("config.json"), json);
        FuzzFiles.rejectsOnlyAsDocumented(ModelConfigFuzzTest::parse, FOLDER.resolve("config.json").toString());
    }

    private static void parse() {
        try (HfCheckpoint ckpt = HfCheckpoint.open(FOLDER.toString(), FuzzFiles.CONF)) {
            ModelConfig cfg = ModelLoader.config(ckpt);
            for (TensorSpec spec : Architectures.of(cfg).tensors()) {
                for (long d : spec.shape()) {
                    assertTrue(d > 0, () -> spec.name() + " has shape " + java.util.Arrays.toString(spec.shape()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
