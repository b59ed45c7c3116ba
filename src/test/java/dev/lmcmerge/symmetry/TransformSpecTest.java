package dev.lmcmerge.symmetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.io.TensorInfo;
import dev.lmcmerge.model.ModelConfig;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The per-family spec tables, checked against the stock Hugging Face checkpoints of the reference cases. */
class TransformSpecTest {

    private static String referenceModel(String family) {
        return System.getProperty("lmc.shared.dir") + "/reference-cases/models/" + family;
    }

    /** Config and file tensor shapes of a reference checkpoint. */
    private record Checkpoint(ModelConfig config, Map<String, long[]> shapes) {
    }

    private static Checkpoint read(String family) throws IOException {
        try (HfCheckpoint ckpt = HfCheckpoint.open(referenceModel(family), new Configuration())) {
            ModelConfig cfg = ModelConfig.parse(ckpt.config(), referenceModel(family) + "/config.json");
            Map<String, long[]> shapes = new LinkedHashMap<>();
            for (TensorInfo t : ckpt.tensors().values()) {
                shapes.put(t.name(), t.shape());
            }
            return new Checkpoint(cfg, shapes);
        }
    }

    private static TransformSpec unbound(ModelConfig cfg) {
        return TransformSpec.build(TransformSpec.dimensionsOf(cfg), StandardParameterizations.cayley());
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt_neox", "llama", "gpt2", "vit"})
    void tableCoversEveryTensorOfTheStockCheckpointExactlyOnce(String family) throws IOException {
        Checkpoint c = read(family);
        TransformSpec spec = unbound(c.config()).bind(c.shapes(), family);
        Set<String> expected = new TreeSet<>(c.shapes().keySet());
        if (spec.tiedHead() != null) {
            expected.add(spec.tiedHead()); // written explicitly once untied
        }
        assertEquals(expected, new TreeSet<>(spec.rules().keySet()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt_neox", "llama", "gpt2", "vit"})
    void everyNormIsFoldedIntoReadersOfTheModel(String family) throws IOException {
        Checkpoint c = read(family);
        TransformSpec spec = unbound(c.config()).bind(c.shapes(), family);
        assertEquals(2L * c.config().numLayers() + 1, spec.norms().size());
        for (NormRule n : spec.norms()) {
            assertTrue(c.shapes().containsKey(n.weight()), n.weight());
            for (NormRule.Reader r : n.readers()) {
                assertNotNull(spec.rule(r.weight()).in(), r.weight() + " reads the residual");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt_neox", "gpt_neox_sequential", "gpt_neox_nobias", "llama", "qwen2", "gpt2", "vit"})
    void tableMatchesTheArchitecturesTensorListForEveryConfigVariant(String variant) {
        dev.lmcmerge.model.Architecture arch = TinyModels.tinyArchitecture(variant);
        TransformSpec spec = TransformSpec.forArchitecture(arch);
        Set<String> names = new TreeSet<>();
        arch.tensors().forEach(t -> names.add(t.name()));
        assertEquals(names, new TreeSet<>(spec.rules().keySet()));
    }

    @Test
    void gpt2LmHeadIsTiedToTheTokenEmbeddingAndAbsentFromTheFile() throws IOException {
        Checkpoint c = read("gpt2");
        TransformSpec spec = unbound(c.config()).bind(c.shapes(), "gpt2");
        assertEquals("lm_head.weight", spec.tiedHead());
        assertEquals("transformer.wte.weight", spec.tiedEmbedding());
        assertTrue(!c.shapes().containsKey("lm_head.weight"));
    }

    @Test
    void llamaWithoutBiasesDropsTheOptionalBiasRows() throws IOException {
        Checkpoint c = read("llama");
        TransformSpec spec = unbound(c.config()).bind(c.shapes(), "llama");
        assertNull(spec.rule("model.layers.0.self_attn.q_proj.bias"));
        NormRule first = spec.norms().get(0);
        assertTrue(first.readers().stream().allMatch(r -> r.bias() == null));
    }

    @Test
    void gqaHasGroupAndWithinGroupHeadSlots() throws IOException {
        Checkpoint c = read("llama");
        TransformSpec spec = unbound(c.config()).bind(c.shapes(), "llama");
        assertEquals(2, spec.slot("heads_in_group.0").count());
        assertEquals(2, spec.slot("qk.0").count());
        assertTrue(spec.slots().containsKey("ffn_scale.1"));
        AxisRule q = spec.rule("model.layers.0.self_attn.q_proj.weight").out();
        assertEquals(4, ((AxisLayout.Heads) q.layout()).heads());
        AxisRule k = spec.rule("model.layers.0.self_attn.k_proj.weight").out();
        assertEquals(2, ((AxisLayout.Heads) k.layout()).heads());
        assertTrue(!k.slots().contains(SlotRef.at(SlotKind.HEADS_IN_GROUP, 0)), "K rows move with whole groups");
    }

    @Test
    void layerNormFamiliesHaveNoFfnScaleSlot() throws IOException {
        Checkpoint c = read("gpt_neox");
        TransformSpec spec = unbound(c.config()).bind(c.shapes(), "gpt_neox");
        assertTrue(!spec.slots().containsKey("ffn_scale.0"));
        assertTrue(spec.layerNorm());
    }

    @Test
    void aTensorWithoutRuleIsRefusedByName() throws IOException {
        Checkpoint c = read("gpt_neox");
        Map<String, long[]> shapes = new LinkedHashMap<>(c.shapes());
        shapes.put("gpt_neox.layers.0.mystery.weight", new long[] {4});
        LmcException e = assertThrows(LmcException.class, () -> unbound(c.config()).bind(shapes, "x"));
        assertTrue(e.getMessage().contains("gpt_neox.layers.0.mystery.weight"), e.getMessage());
    }

    @Test
    void aMissingTensorIsRefusedByName() throws IOException {
        Checkpoint c = read("vit");
        Map<String, long[]> shapes = new LinkedHashMap<>(c.shapes());
        shapes.remove("vit.encoder.layer.1.output.dense.weight");
        LmcException e = assertThrows(LmcException.class, () -> unbound(c.config()).bind(shapes, "x"));
        assertTrue(e.getMessage().contains("vit.encoder.layer.1.output.dense.weight"), e.getMessage());
    }

    @Test
    void aWrongAxisLengthIsRefused() throws IOException {
        Checkpoint c = read("gpt2");
        Map<String, long[]> shapes = new LinkedHashMap<>(c.shapes());
        shapes.put("transformer.h.0.attn.c_attn.weight", new long[] {64, 190});
        LmcException e = assertThrows(LmcException.class, () -> unbound(c.config()).bind(shapes, "x"));
        assertTrue(e.getMessage().contains("c_attn.weight") && e.getMessage().contains("192"), e.getMessage());
    }

    @Test
    void buffersOfOlderCheckpointsNeedNoRule() throws IOException {
        Checkpoint c = read("gpt_neox");
        Map<String, long[]> shapes = new LinkedHashMap<>(c.shapes());
        shapes.put("gpt_neox.layers.0.attention.rotary_emb.inv_freq", new long[] {2});
        shapes.put("gpt_neox.layers.0.attention.masked_bias", new long[] {});
        unbound(c.config()).bind(shapes, "x");
    }
}
