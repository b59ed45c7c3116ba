package dev.lmcmerge.symmetry;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.GptNeoxArchitecture;
import dev.lmcmerge.model.Weights;
import java.util.EnumSet;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A fixed residual rotation far from the identity (as matching two unrelated models gives) is
 * applied orthogonally to float32 precision: the Cayley map's I + A is badly conditioned there,
 * so the engine materializes fixed rotations in float64. Measured by the embedding's row norms,
 * which an orthogonal map on the residual axis preserves.
 */
class FixedRotationPrecisionTest {
    @Test
    void aRotationFarFromTheIdentityKeepsEveryEmbeddingRowNorm() {
        try (NDManager m = NDManager.newBaseManager()) {
            // Pythia-160M's width; one small layer and vocabulary, only the embedding is transformed.
            com.fasterxml.jackson.databind.node.ObjectNode cfg = (com.fasterxml.jackson.databind.node.ObjectNode)
                    TinyModels.configJson("gpt_neox").deepCopy();
            cfg.put("hidden_size", 768).put("num_attention_heads", 12).put("num_hidden_layers", 1)
                    .put("intermediate_size", 64).put("vocab_size", 64);
            Architecture arch = dev.lmcmerge.model.Architectures.of(dev.lmcmerge.model.ModelConfig.parse(cfg, "wide"));
            TransformSpec spec = TransformSpec.forArchitecture(arch);
            Weights w = new Weights(m.newSubManager(), "embedding");
            w.put(GptNeoxArchitecture.EMBED, m.randomNormal(new Shape(64, 768)));
            Slot residual = spec.slot(Slot.nameOf(SlotKind.RESIDUAL_ROTATION, -1));
            Shape shape = residual.paramShape();
            int k = (int) shape.get(shape.dimension() - 1);
            // A rotation spread over the whole circle (the exponential of a large random generator),
            // written as Cayley parameters as matching writes them: eigenvalues near -1 make the
            // generator huge in places and I + A badly conditioned.
            ExpmOrthogonal far = new ExpmOrthogonal(k + 1, true);
            NDArray o = far.materialize(far.randomParams(m, new Random(5)).toType(DataType.FLOAT64, false).mul(20));
            NDArray params = ((CayleyOrthogonal) residual.parameterization()).paramsOf(o)
                    .toType(DataType.FLOAT32, false).reshape(shape);
            Transform t = Transform.of(spec, EnumSet.of(SlotGroup.RESIDUAL), Map.of(residual.name(), params), m);
            try (Weights out = TransformEngine.apply(spec, t, w, java.util.List.of(GptNeoxArchitecture.EMBED))) {
                NDArray before = w.get(GptNeoxArchitecture.EMBED).toType(DataType.FLOAT64, false);
                NDArray after = out.get(GptNeoxArchitecture.EMBED).toType(DataType.FLOAT64, false);
                NDArray nb = before.mul(before).sum(new int[] {1}).sqrt();
                NDArray na = after.mul(after).sum(new int[] {1}).sqrt();
                double rel = na.sub(nb).abs().div(nb).max().getDouble();
                // float64 materialization: ~5e-8; the float32 Cayley inverse: ~5e-6 (measured)
                assertTrue(rel < 1e-6, "largest relative change of an embedding row norm: " + rel);
            }
        }
    }
}
