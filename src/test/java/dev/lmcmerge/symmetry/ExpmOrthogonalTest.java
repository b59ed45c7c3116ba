package dev.lmcmerge.symmetry;

import static dev.lmcmerge.symmetry.ParameterizationChecks.assertClose;
import static dev.lmcmerge.symmetry.ParameterizationChecks.assertGradientMatchesFiniteDifferences;
import static dev.lmcmerge.symmetry.ParameterizationChecks.assertIdentity;
import static dev.lmcmerge.symmetry.ParameterizationChecks.maxAbsFromIdentity;
import static dev.lmcmerge.symmetry.ParameterizationChecks.random64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** {@link ExpmOrthogonal}: the shared contract, the half turn Cayley cannot reach, float32 gradients. */
class ExpmOrthogonalTest extends OrthogonalParameterizationContract {

    @Override
    OrthogonalParameterization create(int n, boolean fixOnes) {
        return new ExpmOrthogonal(n, fixOnes);
    }

    @Test
    void reachesAHalfTurnWhichCayleyCannot() {
        try (NDManager m = NDManager.newBaseManager()) {
            ExpmOrthogonal p = new ExpmOrthogonal(2, false);
            // S - S^T = [[0, -pi], [pi, 0]]: rotation by pi, i.e. -I (eigenvalue -1).
            NDArray params = m.create(new double[] {0, 0, Math.PI, 0}, new Shape(2, 2));
            assertClose(p.materialize(params), m.eye(2).neg(), 1e-12, "expm of the half-turn generator");
        }
    }

    @Test
    void float32ParametersGetTheFloat64GradientUpToFloat32Rounding() {
        try (NDManager m = NDManager.newBaseManager()) {
            ExpmOrthogonal p = new ExpmOrthogonal(6, true);
            NDArray params = random64(p, m, 4);
            double[] g64 = ParameterizationChecks.autogradOfLinearFunctional(params, p::materialize, 1);
            double[] g32 = ParameterizationChecks.autogradOfLinearFunctional(params.toType(DataType.FLOAT32, false), p::materialize, 1);
            double diff = 0;
            double ref = 0;
            for (int i = 0; i < g64.length; i++) {
                diff += (g32[i] - g64[i]) * (g32[i] - g64[i]);
                ref += g64[i] * g64[i];
            }
            assertTrue(ref > 0 && Math.sqrt(diff / ref) < 1e-5, "relative difference " + Math.sqrt(diff / ref));
        }
    }
}
