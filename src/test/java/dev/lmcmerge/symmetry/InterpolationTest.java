package dev.lmcmerge.symmetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Weights;
import java.util.EnumSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Why LayerNorm models rotate only with rotations fixing the all-ones direction (DESIGN.md "Exact
 * export"): interpolated models are exported into the stock LayerNorm architecture, which equals
 * the intended RMSNorm model only on a centered stream. Kept as a regression test.
 */
class InterpolationTest {
    private static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    /** Residual rotation of every width, fixing the all-ones direction or not. */
    private static SlotParameterizations rotation(boolean fixOnes) {
        StandardParameterizations standard = StandardParameterizations.cayley();
        return (kind, dims) -> kind == SlotKind.RESIDUAL_ROTATION
                ? new CayleyOrthogonal(dims.hidden(), fixOnes) : standard.forKind(kind, dims);
    }

    /**
     * The same rotation applied to two different models commutes with interpolation only if the
     * rotated stream stays centered: lerp(T a, T b) must compute what lerp(a, b) computes.
     */
    private static double interpolatedDifference(boolean fixOnes) {
        Architecture arch = TinyModels.tinyArchitecture("gpt_neox");
        TransformSpec spec = TransformSpec.forArchitecture(arch, rotation(fixOnes));
        Weights a = Canonicalizer.canonicalize(spec, TinyModels.randomWeights(arch, 1, manager));
        Weights b = Canonicalizer.canonicalize(spec, TinyModels.randomWeights(arch, 2, manager));
        Transform t = Transform.random(spec, EnumSet.of(SlotGroup.RESIDUAL), 77, manager);
        Weights mid = Interpolation.lerp(a, b, 0.5);
        Weights midTransformed = Interpolation.lerp(TransformEngine.apply(spec, t, a), TransformEngine.apply(spec, t, b), 0.5);
        NDArray input = TinyModels.input(arch, manager, 5);
        return ExactnessCheck.maxLogitDifference(arch, mid, arch, midTransformed, input);
    }

    @Test
    void rotationFixingOnesKeepsInterpolationExactForLayerNorm() {
        double diff = interpolatedDifference(true);
        assertTrue(diff <= 1e-4, "restricted rotation: max |logit diff| " + diff);
    }

    @Test
    void unrestrictedRotationBreaksInterpolationForLayerNorm() {
        double diff = interpolatedDifference(false);
        assertTrue(diff > 1e-3, "unrestricted rotation should break exactness, max |logit diff| " + diff);
    }

    /** Max |mean over d| of the residual stream after every block. */
    private static double streamMean(Architecture arch, Weights w, NDArray input) {
        NDArray h = arch.embed(w, input);
        double worst = h.mean(new int[] {2}).abs().max().getFloat();
        for (int l = 0; l < arch.config().numLayers(); l++) {
            h = arch.block(l, w, h);
            worst = Math.max(worst, h.mean(new int[] {2}).abs().max().getFloat());
        }
        return worst;
    }

    /**
     * Two differently rotated copies of one model, interpolated: the merge is a new model, but with
     * the restricted rotation its stream stays centered (so stock LayerNorm acts as RMSNorm on it),
     * with an unrestricted one it does not.
     */
    @Test
    void interpolatedStreamStaysCenteredOnlyWithTheRestrictedRotation() {
        for (boolean fixOnes : new boolean[] {true, false}) {
            Architecture arch = TinyModels.tinyArchitecture("gpt2");
            TransformSpec spec = TransformSpec.forArchitecture(arch, rotation(fixOnes));
            Weights a = Canonicalizer.canonicalize(spec, TinyModels.randomWeights(arch, 3, manager));
            Weights t1 = TransformEngine.apply(spec, Transform.random(spec, EnumSet.of(SlotGroup.RESIDUAL), 1, manager), a);
            Weights t2 = TransformEngine.apply(spec, Transform.random(spec, EnumSet.of(SlotGroup.RESIDUAL), 2, manager), a);
            double mean = streamMean(arch, Interpolation.lerp(t1, t2, 0.5), TinyModels.input(arch, manager, 4));
            if (fixOnes) {
                assertTrue(mean < 1e-5, "restricted: stream mean " + mean);
            } else {
                assertTrue(mean > 1e-2, "unrestricted: stream mean " + mean);
            }
        }
    }

    @Test
    void lerpIsAffineInAlpha() {
        Architecture arch = TinyModels.tinyArchitecture("llama");
        Weights a = TinyModels.randomWeights(arch, 1, manager);
        Weights b = TinyModels.randomWeights(arch, 2, manager);
        String n = "model.layers.1.mlp.up_proj.weight";
        assertTrue(TinyModels.maxAbsDiff(Interpolation.lerp(a, b, 0).get(n), a.get(n)) == 0);
        assertTrue(TinyModels.maxAbsDiff(Interpolation.lerp(a, b, 1).get(n), b.get(n)) < 1e-7);
        NDArray quarter = a.get(n).mul(0.75).add(b.get(n).mul(0.25));
        assertTrue(TinyModels.maxAbsDiff(Interpolation.lerp(a, b, 0.25).get(n), quarter) < 1e-6);
    }

    @Test
    void lerpRefusesDifferentShapes() {
        Weights a = TinyModels.randomWeights(TinyModels.tinyArchitecture("gpt2"), 1, manager);
        Weights b = TinyModels.randomWeights(TinyModels.tinyArchitecture("gpt2"), 2, manager);
        b.put("transformer.wpe.weight", manager.zeros(new ai.djl.ndarray.types.Shape(3, 32)));
        LmcException e = assertThrows(LmcException.class, () -> Interpolation.lerp(a, b, 0.5));
        assertTrue(e.getMessage().contains("transformer.wpe.weight"), e.getMessage());
    }

    @Test
    void interpolatedEpsScaleIsExactAtTheEndpoints() {
        assertEquals(4.0, Interpolation.epsScale(4.0, 0.25, 0), 1e-12);
        assertEquals(0.25, Interpolation.epsScale(4.0, 0.25, 1), 1e-12);
        assertEquals(1.5625, Interpolation.epsScale(4.0, 0.25, 0.5), 1e-12);
    }
}
