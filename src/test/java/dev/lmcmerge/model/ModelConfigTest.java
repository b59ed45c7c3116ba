package dev.lmcmerge.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import org.junit.jupiter.api.Test;

/** Reading config.json: both config styles, per-type defaults, and errors naming the file and key. */
class ModelConfigTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String WHERE = "/models/m/config.json";

    static ObjectNode json(String text) {
        try {
            return (ObjectNode) JSON.readTree(text.replace('\'', '"'));
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    static ObjectNode neox() {
        return json("{'model_type':'gpt_neox','hidden_size':64,'num_hidden_layers':2,'num_attention_heads':4,"
                + "'intermediate_size':256,'vocab_size':512,'rotary_pct':0.25,'rotary_emb_base':10000,"
                + "'use_parallel_residual':true,'layer_norm_eps':1e-5}");
    }

    static ObjectNode llama() {
        return json("{'model_type':'llama','hidden_size':64,'num_hidden_layers':2,'num_attention_heads':4,"
                + "'num_key_value_heads':2,'intermediate_size':172,'vocab_size':512,'rms_norm_eps':1e-5,"
                + "'rope_theta':500000.0}");
    }

    static LmcException invalid(ObjectNode cfg) {
        LmcException e = assertThrows(LmcException.class, () -> ModelConfig.parse(cfg, WHERE));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertEquals(3, e.exitCode().code());
        assertTrue(e.getMessage().startsWith(WHERE), e.getMessage());
        return e;
    }

    @Test
    void unknownModelTypeIsInvalidInputNamingItAndTheSupportedTypes() {
        ObjectNode cfg = neox().put("model_type", "bert");
        LmcException e = invalid(cfg);
        assertTrue(e.getMessage().contains("'bert'"), e.getMessage());
        for (String t : ModelConfig.SUPPORTED_MODEL_TYPES) {
            assertTrue(e.getMessage().contains(t), e.getMessage());
        }
    }

    @Test
    void missingModelTypeIsInvalidInput() {
        ObjectNode cfg = neox();
        cfg.remove("model_type");
        assertTrue(invalid(cfg).getMessage().contains("model_type"));
    }

    @Test
    void missingRequiredKeyIsInvalidInputNamingTheKey() {
        for (String key : new String[] {"hidden_size", "num_hidden_layers", "num_attention_heads",
                "intermediate_size", "vocab_size"}) {
            ObjectNode cfg = llama();
            cfg.remove(key);
            assertTrue(invalid(cfg).getMessage().contains("'" + key + "'"), key);
        }
        ObjectNode gpt2 = json("{'model_type':'gpt2','n_embd':64,'n_layer':2,'vocab_size':512}");
        assertTrue(invalid(gpt2).getMessage().contains("'n_head'"));
        ObjectNode vit = json("{'model_type':'vit','hidden_size':64,'num_hidden_layers':2,'num_attention_heads':4,"
                + "'intermediate_size':128,'image_size':32}");
        assertTrue(invalid(vit).getMessage().contains("'patch_size'"));
    }

    @Test
    void wrongValueTypeIsInvalidInputNamingTheKey() {
        assertTrue(invalid(neox().put("hidden_size", "64")).getMessage().contains("'hidden_size'"));
        assertTrue(invalid(neox().put("use_parallel_residual", 1)).getMessage().contains("'use_parallel_residual'"));
    }

    @Test
    void neoxOlderKeysGivePartialRotaryDims() {
        ModelConfig c = ModelConfig.parse(neox(), WHERE);
        assertEquals(Family.GPT_NEOX, c.family());
        assertEquals(16, c.headDim());
        assertEquals(4, c.rotaryDim()); // int(16 * 0.25)
        assertEquals(10000.0, c.ropeTheta());
        assertTrue(c.parallelResidual());
        assertTrue(c.qkvBias() && c.attnOutBias() && c.mlpBias());
        assertFalse(c.tieWordEmbeddings());
        assertEquals("gelu", c.hiddenAct());
    }

    @Test
    void ropeParametersStyleReadsTheSameAsOlderKeys() {
        ObjectNode v5 = neox();
        v5.remove("rotary_pct");
        v5.remove("rotary_emb_base");
        v5.set("rope_parameters", json("{'rope_type':'default','rope_theta':10000.0,'partial_rotary_factor':0.25}"));
        assertEquals(ModelConfig.parse(neox(), WHERE), ModelConfig.parse(v5, WHERE));

        ObjectNode old = llama();
        old.set("rope_scaling", json("{'rope_type':'llama3','factor':32.0,'low_freq_factor':1.0,"
                + "'high_freq_factor':4.0,'original_max_position_embeddings':8192}"));
        ObjectNode neu = llama();
        neu.remove("rope_theta");
        neu.set("rope_parameters", json("{'rope_type':'llama3','rope_theta':500000.0,'factor':32.0,"
                + "'low_freq_factor':1.0,'high_freq_factor':4.0,'original_max_position_embeddings':8192}"));
        ModelConfig a = ModelConfig.parse(old, WHERE);
        assertEquals(a, ModelConfig.parse(neu, WHERE));
        assertEquals(RopeScaling.llama3(32.0, 1.0, 4.0, 8192), a.ropeScaling());
        assertEquals(500000.0, a.ropeTheta());
    }

    @Test
    void linearScalingAcceptsTheOlderTypeKey() {
        ObjectNode cfg = llama();
        cfg.set("rope_scaling", json("{'type':'linear','factor':2.0}"));
        assertEquals(RopeScaling.linear(2.0), ModelConfig.parse(cfg, WHERE).ropeScaling());
    }

    @Test
    void unsupportedRopeTypeIsInvalidInputNamingIt() {
        ObjectNode cfg = llama();
        cfg.set("rope_scaling", json("{'rope_type':'yarn','factor':2.0}"));
        assertTrue(invalid(cfg).getMessage().contains("'yarn'"));
        ObjectNode missing = llama();
        missing.set("rope_scaling", json("{'rope_type':'llama3','factor':8.0}"));
        assertTrue(invalid(missing).getMessage().contains("low_freq_factor"));
    }

    @Test
    void llamaGqaAndExplicitHeadDim() {
        ModelConfig c = ModelConfig.parse(llama().put("head_dim", 32), WHERE);
        assertEquals(Family.LLAMA, c.family());
        assertEquals(2, c.numKvHeads());
        assertEquals(2, c.groupSize());
        assertEquals(32, c.headDim());
        assertEquals(32, c.rotaryDim());
        assertEquals(128, c.attentionWidth());
        assertFalse(c.qkvBias() || c.attnOutBias() || c.mlpBias());
        assertEquals("silu", c.hiddenAct());
    }

    @Test
    void dimensionsBeyondAnySupportedModelAreInvalidInputBeforeTheTensorTableIsBuilt() {
        LmcException layers = invalid(llama().put("num_hidden_layers", 9_700_000));
        assertTrue(layers.getMessage().contains(WHERE) && layers.getMessage().contains("number of layers is 9700000; at most 4096"),
                layers.getMessage());
        assertTrue(invalid(llama().put("vocab_size", 1 << 25)).getMessage().contains("at most 16777216"));
        assertTrue(invalid(llama().put("intermediate_size", (1 << 20) + 1)).getMessage().contains("intermediate size"));
    }

    @Test
    void kvHeadsMustDivideHeads() {
        assertTrue(invalid(llama().put("num_key_value_heads", 3)).getMessage().contains("num_key_value_heads"));
    }

    @Test
    void qwen2HasQkvBiasesButNoOutputBias() {
        ModelConfig c = ModelConfig.parse(llama().put("model_type", "qwen2"), WHERE);
        assertEquals(Family.LLAMA, c.family());
        assertEquals("qwen2", c.modelType());
        assertTrue(c.qkvBias());
        assertFalse(c.attnOutBias());
        assertFalse(c.windowed(0));
    }

    @Test
    void mistralSlidingWindowDefaultsAndNull() {
        ModelConfig dflt = ModelConfig.parse(llama().put("model_type", "mistral"), WHERE);
        assertEquals(4096, dflt.slidingWindow());
        ObjectNode off = llama().put("model_type", "mistral");
        off.putNull("sliding_window");
        assertEquals(0, ModelConfig.parse(off, WHERE).slidingWindow());
        assertTrue(ModelConfig.parse(llama().put("model_type", "mistral").put("sliding_window", 8), WHERE).windowed(1));
    }

    @Test
    void gpt2DefaultsTiedGeluNewAndFourTimesInner() {
        ModelConfig c = ModelConfig.parse(json("{'model_type':'gpt2','n_embd':64,'n_layer':2,'n_head':4,"
                + "'vocab_size':512,'n_positions':128,'n_inner':null}"), WHERE);
        assertEquals(Family.GPT2, c.family());
        assertEquals(256, c.intermediateSize());
        assertTrue(c.tieWordEmbeddings());
        assertEquals("gelu_new", c.hiddenAct());
        assertEquals(0, c.rotaryDim());
        assertEquals(1e-5, c.normEps());
    }

    @Test
    void vitLabelsFromId2LabelAndEpsDefault() {
        ModelConfig c = ModelConfig.parse(json("{'model_type':'vit','hidden_size':64,'num_hidden_layers':2,"
                + "'num_attention_heads':4,'intermediate_size':128,'image_size':32,'patch_size':8,"
                + "'id2label':{'0':'a','1':'b','2':'c'}}"), WHERE);
        assertEquals(Family.VIT, c.family());
        assertEquals(3, c.numLabels());
        assertEquals(16, c.numPatches());
        assertEquals(1e-12, c.normEps());
        assertEquals(3, c.numChannels());
        assertTrue(c.qkvBias());
    }

    @Test
    void unsupportedActivationIsInvalidInput() {
        assertTrue(invalid(neox().put("hidden_act", "mish")).getMessage().contains("hidden_act"));
    }

    @Test
    void oddRotaryDimsAreInvalidInput() {
        // head_dim 16 * 0.1 = 1 rotary dim: RoPE needs pairs.
        assertTrue(invalid(neox().put("rotary_pct", 0.1)).getMessage().contains("rotary"));
    }

    @Test
    void withersChangeOnlyTheirField() {
        ModelConfig c = ModelConfig.parse(llama(), WHERE);
        ModelConfig e = c.withNormEps(4e-5);
        assertEquals(4e-5, e.normEps());
        assertEquals(c, e.withNormEps(c.normEps()));
        ModelConfig t = c.withTieWordEmbeddings(true);
        assertTrue(t.tieWordEmbeddings());
        assertEquals(c, t.withTieWordEmbeddings(false));
    }
}
