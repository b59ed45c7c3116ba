package dev.lmcmerge.symmetry;

import static dev.lmcmerge.symmetry.ParameterizationChecks.assertGradientMatchesFiniteDifferences;
import static dev.lmcmerge.symmetry.ParameterizationChecks.random64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ResidualScaleTest {
    private final ResidualScale scale = new ResidualScale();

    @Test
    void theElementIsOnePositiveNumberAndTheInverseIsItsReciprocal() {
        try (NDManager m = NDManager.newBaseManager()) {
            for (int seed = 0; seed < 20; seed++) {
                NDArray params = scale.randomParams(m, new Random(seed));
                NDArray c = scale.materialize(params);
                assertEquals(new Shape(1), c.getShape());
                float value = c.getFloat(0);
                assertTrue(value > 0, "c = " + value);
                assertEquals(1.0, value * scale.materializeInverse(params).getFloat(0), 1e-6);
            }
        }
    }

    @Test
    void randomScalesAreClearlyNotOne() {
        try (NDManager m = NDManager.newBaseManager()) {
            for (int seed = 0; seed < 50; seed++) {
                float c = scale.materialize(scale.randomParams(m, new Random(seed))).getFloat(0);
                assertTrue((c >= 0.5f && c <= 0.67f) || (c >= 1.5f && c <= 2f), "c = " + c);
            }
        }
    }

    @Test
    void identityParametersGiveOne() {
        try (NDManager m = NDManager.newBaseManager()) {
            assertEquals(1f, scale.materialize(scale.identityParams(m)).getFloat(0), 0f);
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray params = random64(scale, m, 3);
            assertGradientMatchesFiniteDifferences(params, scale::materialize, 1);
            assertGradientMatchesFiniteDifferences(params, scale::materializeInverse, 2);
        }
    }

    @Test
    void parametersOfTheWrongShapeAreRejected() {
        try (NDManager m = NDManager.newBaseManager()) {
            assertThrows(IllegalArgumentException.class, () -> scale.materialize(m.zeros(new Shape(2))));
        }
    }
}
