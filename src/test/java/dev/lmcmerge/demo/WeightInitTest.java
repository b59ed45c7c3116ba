package dev.lmcmerge.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Architectures;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.TensorSpec;
import dev.lmcmerge.model.Weights;
import org.junit.jupiter.api.Test;

class WeightInitTest {
    private static final Architecture ARCH = Architectures.of(
            ModelConfig.parse(new DemoModelConfig(2, 64, 4, 32).toJson(), "demo"));

    @Test
    void normsStartAtOneAndZeroBiasesAtZeroMatricesWithStd002() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = WeightInit.initialize(ARCH, m, 3, 0.02);
            for (TensorSpec s : ARCH.tensors()) {
                float[] v = w.get(s.name()).toFloatArray();
                if (s.role() == TensorSpec.Role.NORM && s.name().endsWith(".weight")) {
                    assertEquals(1f, v[0]);
                    assertEquals(1f, v[v.length - 1]);
                } else if (s.shape().length == 1) {
                    assertEquals(0f, v[0], s.name());
                } else {
                    double sq = 0;
                    for (float x : v) {
                        sq += x * x;
                    }
                    double std = Math.sqrt(sq / v.length);
                    assertTrue(Math.abs(std - 0.02) < 0.002, s.name() + " std " + std);
                }
            }
        }
    }

    @Test
    void theSameSeedGivesTheSameWeights() {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights a = WeightInit.initialize(ARCH, m, 5, 0.02);
            Weights b = WeightInit.initialize(ARCH, m, 5, 0.02);
            Weights c = WeightInit.initialize(ARCH, m, 6, 0.02);
            String name = "gpt_neox.layers.1.attention.query_key_value.weight";
            assertArrayEquals(a.get(name).toFloatArray(), b.get(name).toFloatArray());
            assertTrue(a.get(name).sub(c.get(name)).abs().max().getFloat() > 0);
        }
    }
}
