package dev.lmcmerge.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.io.HfCheckpointWriter;
import dev.lmcmerge.io.TensorSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading checkpoints: every tensor checked against the architecture's table, clear errors naming the tensor. */
class ModelLoaderTest {
    static final JsonNode GPT2 = ModelConfigTest.json("{'model_type':'gpt2','n_embd':16,'n_layer':1,'n_head':2,"
            + "'vocab_size':32,'n_positions':8}");
    static final JsonNode NEOX = ModelConfigTest.json("{'model_type':'gpt_neox','hidden_size':16,'num_hidden_layers':1,"
            + "'num_attention_heads':2,'intermediate_size':32,'vocab_size':32,'rotary_pct':0.25}");

    @TempDir
    Path tmp;

    /** Writes the fixture checkpoint of {@code config} with its tensor list edited by {@code edit}. */
    private String write(String name, JsonNode config, UnaryOperator<List<TensorSource>> edit) {
        Architecture arch = Architectures.of(ModelConfig.parse(config, name));
        List<TensorSource> sources = new ArrayList<>();
        for (TensorSpec t : arch.tensors()) {
            if (!t.tied()) {
                sources.add(TensorSource.ofFloats(t.name(), t.shape(), FixtureWeights.values(t.name(), t.shape()), DType.F32));
            }
        }
        Path folder = tmp.resolve(name);
        HfCheckpointWriter.to(folder.toString(), new Configuration()).write(config, edit.apply(sources));
        return folder.toString();
    }

    private static List<TensorSource> replace(List<TensorSource> in, String name, TensorSource with) {
        List<TensorSource> out = new ArrayList<>();
        for (TensorSource s : in) {
            if (!s.info().name().equals(name)) {
                out.add(s);
            } else if (with != null) {
                out.add(with);
            }
        }
        return out;
    }

    private static LmcException invalid(String folder) {
        try (NDManager m = NDManager.newBaseManager()) {
            LmcException e = assertThrows(LmcException.class, () -> ModelLoader.open(folder, m.newSubManager()));
            assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
            return e;
        }
    }

    @Test
    void tiedHeadAbsentFromTheFileSharesTheEmbeddingArray() {
        String folder = write("tied", GPT2, l -> l);
        try (NDManager m = NDManager.newBaseManager();
             ModelLoader.LoadedModel model = ModelLoader.open(folder, m.newSubManager())) {
            assertSame(model.weights().get(Gpt2Architecture.EMBED), model.weights().get(Gpt2Architecture.UNEMBED));
            assertEquals(model.architecture().tensors().size(), model.weights().names().size());
            NDArray ids = m.create(new long[] {1, 2, 3, 4}, new Shape(1, 4));
            assertEquals(new Shape(1, 4, 32), model.architecture().forward(model.weights(), ids).getShape());
        }
    }

    @Test
    void loadingReportsEachTensorReadWithItsStoredBytes() throws Exception {
        String folder = write("progress", GPT2, l -> l);
        java.util.Map<String, Long> seen = new java.util.LinkedHashMap<>();
        try (NDManager m = NDManager.newBaseManager();
             dev.lmcmerge.io.HfCheckpoint ckpt = dev.lmcmerge.io.HfCheckpoint.open(folder, new org.apache.hadoop.conf.Configuration())) {
            ModelLoader.load(ckpt, ModelLoader.config(ckpt), m, seen::put);
            assertEquals(ckpt.tensors().keySet().stream().sorted().toList(), // the fixture holds no unused buffers
                    seen.keySet().stream().sorted().toList());
            seen.forEach((name, bytes) -> assertEquals(ckpt.tensors().get(name).byteLength(), bytes, name));
        }
    }

    @Test
    void missingTensorIsInvalidInputNamingIt() {
        String name = "transformer.h.0.mlp.c_fc.bias";
        LmcException e = invalid(write("missing", GPT2, l -> replace(l, name, null)));
        assertTrue(e.getMessage().contains("missing tensor '" + name + "'"), e.getMessage());
    }

    @Test
    void wrongShapeNamesTheTensorTheExpectedAndTheFoundShape() {
        String name = "transformer.h.0.attn.c_attn.weight";
        // Stored [out, in] instead of GPT-2's Conv1D [in, out].
        TensorSource transposed = TensorSource.ofFloats(name, new long[] {48, 16}, new float[48 * 16], DType.F32);
        LmcException e = invalid(write("shape", GPT2, l -> replace(l, name, transposed)));
        assertTrue(e.getMessage().contains(name) && e.getMessage().contains("[48, 16]")
                && e.getMessage().contains("expected [16, 48]"), e.getMessage());
    }

    @Test
    void nonFiniteWeightIsInvalidInputNamingTheTensor() {
        String name = "gpt_neox.layers.0.attention.dense.weight";
        float[] v = FixtureWeights.values(name, new long[] {16, 16});
        v[37] = Float.NaN;
        TensorSource bad = TensorSource.ofFloats(name, new long[] {16, 16}, v, DType.F32);
        LmcException e = invalid(write("nan", NEOX, l -> replace(l, name, bad)));
        assertTrue(e.getMessage().contains(name) && e.getMessage().contains("NaN"), e.getMessage());
    }

    @Test
    void nonFiniteHalfPrecisionWeightIsInvalidInputNamingTheTensorAndIndex() {
        String name = "gpt_neox.layers.0.attention.dense.weight";
        float[] v = FixtureWeights.values(name, new long[] {16, 16});
        v[201] = Float.NEGATIVE_INFINITY;
        TensorSource bad = TensorSource.ofFloats(name, new long[] {16, 16}, v, DType.BF16);
        LmcException e = invalid(write("inf-bf16", NEOX, l -> replace(l, name, bad)));
        assertTrue(e.getMessage().contains(name) && e.getMessage().contains("-Infinity at flat index 201"), e.getMessage());
    }

    @Test
    void halfPrecisionTensorsWidenedInSeveralChunksEqualTheExactWidening() {
        float[] v = FixtureWeights.values("x.weight", new long[] {9, 7});
        java.nio.ByteBuffer bf16 = dev.lmcmerge.io.TensorBytes.fromFloats(v, DType.BF16);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = ModelLoader.widened(bf16, dev.lmcmerge.io.TensorInfo.of("x.weight", DType.BF16, new long[] {9, 7}),
                    new Shape(9, 7), m, "x.weight", "test",
                    java.nio.ByteBuffer.allocateDirect(40).order(java.nio.ByteOrder.nativeOrder()));
            assertEquals(new Shape(9, 7), w.getShape());
            float[] expected = dev.lmcmerge.io.TensorBytes.toFloats(bf16, DType.BF16, 63, "test");
            org.junit.jupiter.api.Assertions.assertArrayEquals(expected, w.toFloatArray());
        }
    }

    @Test
    void integerWeightIsInvalidInput() {
        String name = "gpt_neox.final_layer_norm.bias";
        TensorSource ints = TensorSource.ofLongs(name, new long[] {16}, new long[16]);
        LmcException e = invalid(write("ints", NEOX, l -> replace(l, name, ints)));
        assertTrue(e.getMessage().contains(name) && e.getMessage().contains("I64"), e.getMessage());
    }

    @Test
    void bf16WeightsAreUpcastToFloat32() {
        String name = "gpt_neox.layers.0.mlp.dense_h_to_4h.weight";
        float[] v = FixtureWeights.values(name, new long[] {32, 16});
        String folder = write("bf16", NEOX, l -> replace(l, name, TensorSource.ofFloats(name, new long[] {32, 16}, v, DType.BF16)));
        try (NDManager m = NDManager.newBaseManager();
             ModelLoader.LoadedModel model = ModelLoader.open(folder, m.newSubManager())) {
            NDArray w = model.weights().get(name);
            assertEquals(DataType.FLOAT32, w.getDataType());
            float[] got = w.toFloatArray();
            for (int i = 0; i < v.length; i++) {
                assertEquals(v[i], got[i], Math.abs(v[i]) * 0x1.0p-8, "element " + i);
            }
        }
    }

    @Test
    void buffersAndStrayTensorsAreNotRead() {
        String inv = "gpt_neox.layers.0.attention.rotary_emb.inv_freq";
        String mask = "gpt_neox.layers.0.attention.bias";
        String folder = write("buffers", NEOX, l -> {
            List<TensorSource> out = new ArrayList<>(l);
            out.add(TensorSource.ofFloats(inv, new long[] {2}, new float[] {1f, 0.01f}, DType.F32));
            out.add(TensorSource.ofFloats(mask, new long[] {1, 1, 4, 4}, new float[16], DType.F32));
            return out;
        });
        try (NDManager m = NDManager.newBaseManager();
             ModelLoader.LoadedModel model = ModelLoader.open(folder, m.newSubManager())) {
            assertTrue(!model.weights().has(inv) && !model.weights().has(mask));
        }
        try (HfCheckpoint ckpt = HfCheckpoint.open(folder, new Configuration())) {
            assertEquals(List.of(inv, mask).stream().sorted().toList(),
                    ModelLoader.unusedTensors(ckpt, ModelLoader.config(ckpt)).stream().sorted().toList());
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void tokenIdOutsideTheVocabularyIsInvalidInput() {
        String folder = write("ids", NEOX, l -> l);
        try (NDManager m = NDManager.newBaseManager();
             ModelLoader.LoadedModel model = ModelLoader.open(folder, m.newSubManager())) {
            NDArray ids = m.create(new long[] {1, 32}, new Shape(1, 2));
            LmcException e = assertThrows(LmcException.class, () -> model.architecture().forward(model.weights(), ids));
            assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
            assertTrue(e.getMessage().contains("32") && e.getMessage().contains("[0, 32)"), e.getMessage());
        }
    }
}
