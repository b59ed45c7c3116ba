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

class PositiveScaleTest {

    @Test
    void randomScalesLieBetweenHalfAndTwoAndTheInverseIsTheReciprocal() {
        try (NDManager m = NDManager.newBaseManager()) {
            PositiveScale p = new PositiveScale(200);
            NDArray params = p.randomParams(m, new Random(4));
            float[] s = p.materialize(params).toFloatArray();
            float[] inv = p.materializeInverse(params).toFloatArray();
            assertEquals(200, s.length);
            float lo = Float.MAX_VALUE;
            float hi = 0;
            for (int i = 0; i < s.length; i++) {
                assertTrue(s[i] >= 0.5f - 1e-6f && s[i] <= 2f + 1e-6f, "s = " + s[i]);
                assertEquals(1.0, s[i] * inv[i], 1e-6);
                lo = Math.min(lo, s[i]);
                hi = Math.max(hi, s[i]);
            }
            assertTrue(lo < 0.6f && hi > 1.7f, "random scales should spread over [0.5, 2]: " + lo + ".." + hi);
        }
    }

    @Test
    void identityParametersGiveAllOnes() {
        try (NDManager m = NDManager.newBaseManager()) {
            PositiveScale p = new PositiveScale(7);
            NDArray s = p.materialize(p.identityParams(m));
            assertEquals(new Shape(7), s.getShape());
            for (float v : s.toFloatArray()) {
                assertEquals(1f, v, 0f);
            }
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        try (NDManager m = NDManager.newBaseManager()) {
            PositiveScale p = new PositiveScale(6);
            NDArray params = random64(p, m, 5);
            assertGradientMatchesFiniteDifferences(params, p::materialize, 1);
            assertGradientMatchesFiniteDifferences(params, p::materializeInverse, 2);
        }
    }

    @Test
    void parametersOfTheWrongShapeAreRejected() {
        try (NDManager m = NDManager.newBaseManager()) {
            PositiveScale p = new PositiveScale(7);
            assertThrows(IllegalArgumentException.class, () -> p.materialize(m.zeros(new Shape(6))));
        }
    }
}
