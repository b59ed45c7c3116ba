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
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.SingularOps_DDRM;
import org.junit.jupiter.api.Test;

class PolarInvertibleTest {

    private static double[] singularValues(NDArray a) {
        int n = (int) a.getShape().get(0);
        DMatrixRMaj d = new DMatrixRMaj(n, n, true, a.toType(DataType.FLOAT64, false).toDoubleArray());
        return SingularOps_DDRM.singularValues(d);
    }

    @Test
    void theInverseTimesTheElementIsTheIdentityInFloat32() {
        try (NDManager m = NDManager.newBaseManager()) {
            for (int n : new int[] {4, 64}) {
                PolarInvertible p = new PolarInvertible(n);
                NDArray params = p.randomParams(m, new Random(n));
                NDArray a = p.materialize(params);
                NDArray inv = p.materializeInverse(params);
                assertIdentity(a.matMul(inv), 1e-5, "A A^{-1}, n = " + n);
                assertIdentity(inv.matMul(a), 1e-5, "A^{-1} A, n = " + n);
            }
        }
    }

    @Test
    void theInverseTransposeIsTheTransposeOfTheInverse() {
        try (NDManager m = NDManager.newBaseManager()) {
            PolarInvertible p = new PolarInvertible(9);
            NDArray params = random64(p, m, 2);
            assertClose(p.materializeInverseTranspose(params), p.materializeInverse(params).transpose(), 1e-12, "A^{-T}");
        }
    }

    @Test
    void randomElementsAreWellConditionedButFarFromOrthogonalAndFromTheIdentity() {
        try (NDManager m = NDManager.newBaseManager()) {
            for (int seed = 0; seed < 10; seed++) {
                PolarInvertible p = new PolarInvertible(16);
                NDArray a = p.materialize(random64(p, m, seed));
                double[] sv = singularValues(a);
                double max = 0;
                double min = Double.MAX_VALUE;
                for (double s : sv) {
                    max = Math.max(max, s);
                    min = Math.min(min, s);
                }
                assertTrue(max / min < 10, "condition number " + (max / min));
                assertTrue(max / min > 2, "the symmetric factor should not be near the identity: condition " + (max / min));
                assertTrue(ParameterizationChecks.maxAbsFromIdentity(a) > 0.3, "A should be far from I");
            }
        }
    }

    @Test
    void identityParametersGiveTheIdentity() {
        try (NDManager m = NDManager.newBaseManager()) {
            PolarInvertible p = new PolarInvertible(5);
            assertEquals(new Shape(2, 5, 5), p.paramShape());
            assertIdentity(p.materialize(p.identityParams(m)), 1e-6, "materialize(identityParams)");
        }
    }

    @Test
    void gradientsOfTheElementItsInverseAndInverseTransposeMatchFiniteDifferences() {
        try (NDManager m = NDManager.newBaseManager()) {
            PolarInvertible p = new PolarInvertible(4);
            NDArray params = random64(p, m, 6);
            assertGradientMatchesFiniteDifferences(params, p::materialize, 1);
            assertGradientMatchesFiniteDifferences(params, p::materializeInverse, 2);
            assertGradientMatchesFiniteDifferences(params, p::materializeInverseTranspose, 3);
        }
    }

    @Test
    void parametersOfTheWrongSizeAreRejected() {
        try (NDManager m = NDManager.newBaseManager()) {
            PolarInvertible p = new PolarInvertible(3);
            assertThrows(IllegalArgumentException.class, () -> p.materialize(m.zeros(new Shape(2, 4, 4))));
        }
    }
}
