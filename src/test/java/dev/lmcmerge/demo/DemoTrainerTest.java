package dev.lmcmerge.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lmcmerge.model.ModelConfig;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoTrainerTest {
    @TempDir
    static Path dir;
    static Path text;

    @BeforeAll
    static void writeText() throws Exception {
        text = dir.resolve("text.txt");
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 400; i++) {
            s.append("And it came to pass in verse ").append(i).append(", that the word was heard.\n");
        }
        Files.writeString(text, s);
    }

    private static DemoTrainer.Result train(String out, long seed) {
        TrainOptions o = new TrainOptions(dir.resolve(out).toString(), false, seed, text.toString(),
                new DemoModelConfig(1, 32, 4, 16), 4, 20, 3e-3, 2, 0.1, 2, 1);
        return DemoTrainer.train(o, new PrintWriter(Writer.nullWriter()));
    }

    private static byte[] weights(String out) throws Exception {
        return Files.readAllBytes(dir.resolve(out).resolve("model.safetensors"));
    }

    @Test
    void theSameSeedWritesIdenticalWeightsAndAnotherSeedDifferentOnes() throws Exception {
        DemoTrainer.Result a = train("a", 7);
        DemoTrainer.Result b = train("b", 7);
        train("c", 8);
        assertArrayEquals(weights("a"), weights("b"));
        assertEquals(a.finalTrainLoss(), b.finalTrainLoss());
        assertFalse(Arrays.equals(weights("a"), weights("c")));
        assertTrue(a.finalTrainLoss() < a.firstLoss(), a.toString()); // it learned something in 20 steps
        assertTrue(Math.abs(a.firstLoss() - Math.log(256)) < 0.1, a.toString()); // HF-style init starts near uniform
    }

    @Test
    void theConfigIsACompleteGptNeoxConfigThatParses() throws Exception {
        train("cfg", 1);
        JsonNode c = new ObjectMapper().readTree(dir.resolve("cfg").resolve("config.json").toFile());
        for (String key : new String[] {"hidden_size", "num_attention_heads", "num_hidden_layers", "intermediate_size",
                "rotary_pct", "rotary_emb_base", "max_position_embeddings", "layer_norm_eps", "use_parallel_residual",
                "vocab_size", "hidden_act", "tie_word_embeddings", "attention_bias", "torch_dtype", "bos_token_id",
                "eos_token_id"}) {
            assertTrue(c.has(key), "config.json lacks " + key);
        }
        assertEquals("GPTNeoXForCausalLM", c.get("architectures").get(0).asText());
        ModelConfig cfg = ModelConfig.parse(c, "config.json");
        assertEquals(256, cfg.vocabSize());
        assertEquals(2, cfg.rotaryDim()); // 25% of an 8-dim head
        assertTrue(cfg.parallelResidual());
    }
}
