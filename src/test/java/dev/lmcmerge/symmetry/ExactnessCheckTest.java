package dev.lmcmerge.symmetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Weights;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The run-time self-check: passes exact transforms, fails the run (exit 1) on a broken one. */
class ExactnessCheckTest {
    private static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    @Test
    void returnsTheDifferenceOfAnExactTransform() {
        Architecture arch = TinyModels.tinyArchitecture("gpt_neox");
        TransformSpec spec = TransformSpec.forArchitecture(arch);
        Weights w = TinyModels.randomWeights(arch, 5, manager);
        Weights t = TransformEngine.apply(spec, Transform.random(spec, java.util.EnumSet.of(SlotGroup.RESIDUAL), 1, manager),
                Canonicalizer.canonicalize(spec, w));
        double diff = ExactnessCheck.verifyPreserved(arch, w, t, TinyModels.input(arch, manager, 1), 1e-4);
        assertTrue(diff >= 0 && diff <= 1e-4, "diff " + diff);
    }

    @Test
    void failsTheRunNamingTheModelWhenTheFunctionChanged() {
        Architecture arch = TinyModels.tinyArchitecture("llama");
        Weights w = TinyModels.randomWeights(arch, 5, manager);
        Weights broken = TinyModels.randomWeights(arch, 6, manager);
        NDArray input = TinyModels.input(arch, manager, 1);
        LmcException e = assertThrows(LmcException.class,
                () -> ExactnessCheck.verifyPreserved(arch, w, broken, input, 1e-4));
        assertEquals(ExitCode.FAILURE, e.exitCode());
        assertTrue(e.getMessage().contains(broken.source()) && e.getMessage().contains("1.0E-4"), e.getMessage());
    }

    @Test
    void residualScaleNeedsTheScaledEps() {
        Architecture arch = TinyModels.tinyArchitecture("llama");
        TransformSpec spec = TransformSpec.forArchitecture(arch);
        Weights w = TinyModels.randomWeights(arch, 5, manager);
        Transform t = Transform.random(spec, java.util.EnumSet.of(SlotGroup.SCALE), 2, manager);
        Weights scaled = TransformEngine.apply(spec, t, Canonicalizer.canonicalize(spec, w));
        NDArray input = TinyModels.input(arch, manager, 1);
        Architecture withEps = TransformEngineTest.exportedArchitecture(spec, TinyModels.configJson("llama"), t.epsScale());
        double exact = ExactnessCheck.maxLogitDifference(arch, w, withEps, scaled, input);
        double stale = ExactnessCheck.maxLogitDifference(arch, w, arch, scaled, input);
        assertTrue(exact <= 1e-4, "with eps x c^2: " + exact);
        assertTrue(stale > exact, "the unscaled eps is only approximate: " + stale + " vs " + exact);
    }
}
