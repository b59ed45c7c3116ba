package dev.lmcmerge.symmetry;

import static dev.lmcmerge.symmetry.ParameterizationChecks.assertClose;
import static dev.lmcmerge.symmetry.ParameterizationChecks.assertGradientMatchesFiniteDifferences;
import static dev.lmcmerge.symmetry.ParameterizationChecks.assertIdentity;
import static dev.lmcmerge.symmetry.ParameterizationChecks.random64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RopeCommutingMapTest {

    /**
     * Hugging Face RoPE on one vector, written from modeling code rather than from the map's layout:
     * x_rot * cos + rotate_half(x_rot) * sin on the first r dims (cos, sin = cat(freqs, freqs)),
     * rotate_half(x) = cat(-x2, x1); the remaining dims pass through (GPT-NeoX partial rotary).
     */
    private static double[] hfRope(double[] x, int rotaryDim, double position, double[] inverseFrequencies) {
        int half = rotaryDim / 2;
        double[] out = x.clone();
        for (int j = 0; j < half; j++) {
            double angle = position * inverseFrequencies[j];
            double x1 = x[j];
            double x2 = x[j + half];
            out[j] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
            out[j + half] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
        }
        return out;
    }

    /** The matrix of {@link #hfRope} (column k = RoPE of e_k). */
    private static NDArray ropeMatrix(NDManager m, int headDim, int rotaryDim, double position, double[] inverseFrequencies) {
        double[] r = new double[headDim * headDim];
        for (int k = 0; k < headDim; k++) {
            double[] e = new double[headDim];
            e[k] = 1;
            double[] col = hfRope(e, rotaryDim, position, inverseFrequencies);
            for (int i = 0; i < headDim; i++) {
                r[i * headDim + k] = col[i];
            }
        }
        return m.create(r, new Shape(headDim, headDim));
    }

    private static double[] randomFrequencies(Random rng, int rotaryDim) {
        return RandomParams.uniform(rng, rotaryDim / 2, 1e-4, 2.0);
    }

    private static double[] times(NDArray a, double[] x) {
        return a.matMul(a.getManager().create(x, new Shape(x.length, 1))).toDoubleArray();
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    @ParameterizedTest(name = "headDim {0}, rotaryDim {1}")
    @CsvSource({"8, 8", "16, 4", "6, 0", "4, 2"})
    void theMapCommutesWithEveryRopeRotation(int headDim, int rotaryDim) {
        try (NDManager m = NDManager.newBaseManager()) {
            RopeCommutingMap map = new RopeCommutingMap(headDim, rotaryDim);
            NDArray a = map.materialize(random64(map, m, 1));
            Random rng = new Random(2);
            for (int trial = 0; trial < 5; trial++) {
                NDArray r = ropeMatrix(m, headDim, rotaryDim, rng.nextInt(4096), randomFrequencies(rng, rotaryDim));
                assertClose(r.matMul(a), a.matMul(r), 1e-12, "R A = A R");
            }
        }
    }

    @ParameterizedTest(name = "headDim {0}, rotaryDim {1}")
    @CsvSource({"8, 8", "16, 4", "6, 0"})
    void attentionScoresAreUnchangedWhenQueriesGetTheMapAndKeysItsInverseTranspose(int headDim, int rotaryDim) {
        try (NDManager m = NDManager.newBaseManager()) {
            RopeCommutingMap map = new RopeCommutingMap(headDim, rotaryDim);
            NDArray params = random64(map, m, 3);
            NDArray a = map.materialize(params);
            NDArray aInvT = map.materializeInverseTranspose(params);
            Random rng = new Random(4);
            double[] freqs = new double[rotaryDim / 2];
            for (int j = 0; j < freqs.length; j++) {
                freqs[j] = Math.pow(10000, -2.0 * j / rotaryDim); // the HF default base
            }
            for (int trial = 0; trial < 5; trial++) {
                double[] q = RandomParams.gaussian(rng, headDim, 1);
                double[] k = RandomParams.gaussian(rng, headDim, 1);
                int qPos = rng.nextInt(2048);
                int kPos = rng.nextInt(2048);
                double original = dot(hfRope(q, rotaryDim, qPos, freqs), hfRope(k, rotaryDim, kPos, freqs));
                double mapped = dot(hfRope(times(a, q), rotaryDim, qPos, freqs), hfRope(times(aInvT, k), rotaryDim, kPos, freqs));
                assertEquals(original, mapped, 1e-10 * (1 + Math.abs(original)), "score at positions " + qPos + ", " + kPos);
            }
        }
    }

    @Test
    void aGenericInvertibleHeadMapDoesNotPreserveRopeScores() {
        // Negative control: the invariance above is not automatic; a map that mixes planes breaks it.
        try (NDManager m = NDManager.newBaseManager()) {
            int headDim = 8;
            PolarInvertible generic = new PolarInvertible(headDim);
            NDArray params = random64(generic, m, 5);
            NDArray a = generic.materialize(params);
            NDArray aInvT = generic.materializeInverseTranspose(params);
            double[] freqs = {1.0, 0.1, 0.01, 0.001};
            Random rng = new Random(6);
            double[] q = RandomParams.gaussian(rng, headDim, 1);
            double[] k = RandomParams.gaussian(rng, headDim, 1);
            double original = dot(hfRope(q, headDim, 7, freqs), hfRope(k, headDim, 2, freqs));
            double mapped = dot(hfRope(times(a, q), headDim, 7, freqs), hfRope(times(aInvT, k), headDim, 2, freqs));
            assertTrue(Math.abs(original - mapped) > 1e-3, "generic map kept the score: " + original + " vs " + mapped);
        }
    }

    @Test
    void planeJActsOnDimsJAndJPlusHalfTheRotaryDimAsAScaledRotation() {
        try (NDManager m = NDManager.newBaseManager()) {
            RopeCommutingMap map = new RopeCommutingMap(4, 4);
            // a = (ln 2, 0), phi = (pi/2, 0): plane 0 (dims 0 and 2) becomes 2 R(90 degrees), plane 1 stays.
            NDArray params = m.create(new double[] {Math.log(2), 0, Math.PI / 2, 0});
            double[] expected = {
                0, 0, -2, 0,
                0, 1, 0, 0,
                2, 0, 0, 0,
                0, 0, 0, 1};
            assertClose(map.materialize(params), m.create(expected, new Shape(4, 4)), 1e-12, "A");
            double[] expectedInvT = {
                0, 0, -0.5, 0,
                0, 1, 0, 0,
                0.5, 0, 0, 0,
                0, 0, 0, 1};
            assertClose(map.materializeInverseTranspose(params), m.create(expectedInvT, new Shape(4, 4)), 1e-12, "A^{-T}");
        }
    }

    @ParameterizedTest(name = "headDim {0}, rotaryDim {1}")
    @CsvSource({"64, 64", "64, 16", "32, 0"})
    void inverseAndInverseTransposeAreExactInFloat32(int headDim, int rotaryDim) {
        try (NDManager m = NDManager.newBaseManager()) {
            RopeCommutingMap map = new RopeCommutingMap(headDim, rotaryDim);
            NDArray params = map.randomParams(m, new Random(7));
            NDArray a = map.materialize(params);
            NDArray inv = map.materializeInverse(params);
            assertIdentity(a.matMul(inv), 1e-5, "A A^{-1}");
            assertIdentity(inv.matMul(a), 1e-5, "A^{-1} A");
            assertClose(map.materializeInverseTranspose(params), inv.transpose(), 1e-6, "A^{-T} = (A^{-1})^T");
        }
    }

    @ParameterizedTest(name = "headDim {0}, rotaryDim {1}")
    @CsvSource({"8, 8", "16, 4", "6, 0"})
    void identityParametersGiveTheIdentity(int headDim, int rotaryDim) {
        try (NDManager m = NDManager.newBaseManager()) {
            RopeCommutingMap map = new RopeCommutingMap(headDim, rotaryDim);
            assertIdentity(map.materialize(map.identityParams(m)), 1e-6, "materialize(identityParams)");
            assertIdentity(map.materializeInverseTranspose(map.identityParams(m)), 1e-6, "inverse transpose");
        }
    }

    @Test
    void withoutRopeTheParametersAreThoseOfAFullPolarMap() {
        assertEquals(new Shape(2 * 6 * 6), new RopeCommutingMap(6, 0).paramShape());
        assertEquals(new Shape(8), new RopeCommutingMap(8, 8).paramShape());
        assertEquals(new Shape(4 + 2 * 12 * 12), new RopeCommutingMap(16, 4).paramShape());
    }

    @ParameterizedTest(name = "headDim {0}, rotaryDim {1}")
    @CsvSource({"6, 2", "4, 4", "3, 0"})
    void gradientsOfTheMapItsInverseAndInverseTransposeMatchFiniteDifferences(int headDim, int rotaryDim) {
        try (NDManager m = NDManager.newBaseManager()) {
            RopeCommutingMap map = new RopeCommutingMap(headDim, rotaryDim);
            NDArray params = random64(map, m, 8);
            assertGradientMatchesFiniteDifferences(params, map::materialize, 1);
            assertGradientMatchesFiniteDifferences(params, map::materializeInverse, 2);
            assertGradientMatchesFiniteDifferences(params, map::materializeInverseTranspose, 3);
        }
    }

    @Test
    void anOddOrTooLargeRotaryDimIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new RopeCommutingMap(8, 3));
        assertThrows(IllegalArgumentException.class, () -> new RopeCommutingMap(8, 10));
    }
}
