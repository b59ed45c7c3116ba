package dev.lmcmerge.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.data.ByteVocabulary;

/**
 * The shape of a demo model: a small GPT-NeoX (Pythia-style) language model over the byte-level
 * vocabulary, with partial rotary embeddings (25% of each head) and the parallel residual.
 *
 * @param layers transformer blocks
 * @param width  residual width ({@code hidden_size}); the MLP is 4x wider
 * @param heads  attention heads; must divide {@code width} into heads of at least 4 dims
 * @param seqLen training context, also written as {@code max_position_embeddings}
 */
public record DemoModelConfig(int layers, int width, int heads, int seqLen) {
    /** HF's {@code initializer_range} default, the std of every weight matrix and embedding at init. */
    public static final double INIT_STD = 0.02;
    public static final double ROTARY_PCT = 0.25;
    public static final double LAYER_NORM_EPS = 1e-5;
    /** Byte 0 (NUL) never occurs in text; it stands in for BOS/EOS, which the demo never uses. */
    public static final int BOS_EOS_ID = 0;

    /** @throws LmcException USAGE naming the flag for a non-positive or inconsistent size */
    public DemoModelConfig {
        positive(layers, "--layers");
        positive(width, "--width");
        positive(heads, "--heads");
        positive(seqLen, "--seq-len");
        if (width % heads != 0) {
            throw LmcException.usage("--heads", heads + " heads do not divide --width " + width);
        }
        if ((int) (width / heads * ROTARY_PCT) % 2 != 0 || width / heads * ROTARY_PCT < 2) {
            throw LmcException.usage("--heads", "head width " + width / heads + " gives " + (int) (width / heads * ROTARY_PCT)
                    + " rotary dims at rotary_pct 0.25; expected an even number >= 2 (head width a multiple of 8)");
        }
    }

    private static void positive(int v, String flag) {
        if (v <= 0) {
            throw LmcException.usage(flag, "must be positive, got " + v);
        }
    }

    /** MLP width. */
    public int intermediateSize() {
        return 4 * width;
    }

    /** The Hugging Face {@code config.json}: every key {@code GPTNeoXConfig} reads, explicitly. */
    public ObjectNode toJson() {
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.putArray("architectures").add("GPTNeoXForCausalLM");
        c.put("model_type", "gpt_neox");
        c.put("vocab_size", ByteVocabulary.SIZE);
        c.put("hidden_size", width);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("intermediate_size", intermediateSize());
        c.put("hidden_act", "gelu");
        c.put("rotary_pct", ROTARY_PCT);
        c.put("rotary_emb_base", 10000);
        c.putNull("rope_scaling");
        c.put("max_position_embeddings", seqLen);
        c.put("initializer_range", INIT_STD);
        c.put("layer_norm_eps", LAYER_NORM_EPS);
        c.put("use_parallel_residual", true);
        c.put("attention_bias", true);
        c.put("attention_dropout", 0.0);
        c.put("hidden_dropout", 0.0);
        c.put("classifier_dropout", 0.1);
        c.put("tie_word_embeddings", false);
        c.put("use_cache", true);
        c.put("bos_token_id", BOS_EOS_ID);
        c.put("eos_token_id", BOS_EOS_ID);
        c.put("torch_dtype", "float32");
        return c;
    }
}
