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

/**
 * What every orthogonal parameterization of the residual rotation must satisfy (Cayley and matrix
 * exponential run the same checks): float32 elements orthogonal with the transpose as inverse,
 * random elements far from the identity, the all-ones direction fixed exactly when restricted,
 * identity parameters, gradients against finite differences, shape checks, float64 precision.
 */
abstract class OrthogonalParameterizationContract {

    /** The parameterization under test, of size n, restricted to rotations fixing ones if asked. */
    abstract OrthogonalParameterization create(int n, boolean fixOnes);


    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void randomElementsAreOrthogonalInFloat32AndTheInverseIsTheTranspose(boolean fixOnes) {
        try (NDManager m = NDManager.newBaseManager()) {
            for (int n : new int[] {16, 128}) {
                OrthogonalParameterization p = create(n, fixOnes);
                NDArray params = p.randomParams(m, new Random(n));
                NDArray o = p.materialize(params);
                assertEquals(DataType.FLOAT32, o.getDataType());
                assertEquals(new Shape(n, n), o.getShape());
                assertIdentity(o.transpose().matMul(o), 1e-5, "O^T O, n = " + n);
                assertIdentity(o.matMul(p.materializeInverse(params)), 1e-5, "O O^{-1}, n = " + n);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void randomElementsAreFarFromTheIdentity(boolean fixOnes) {
        try (NDManager m = NDManager.newBaseManager()) {
            OrthogonalParameterization p = create(32, fixOnes);
            NDArray o = p.materialize(p.randomParams(m, new Random(1)));
            double frobenius = o.sub(m.eye(32)).norm().getFloat();
            assertTrue(frobenius > 2.0, "||O - I||_F = " + frobenius);
        }
    }

    @Test
    void theRestrictedRotationMapsTheAllOnesVectorToItself() {
        try (NDManager m = NDManager.newBaseManager()) {
            OrthogonalParameterization p = create(24, true);
            assertEquals(new Shape(23, 23), p.paramShape());
            NDArray o = p.materialize(p.randomParams(m, new Random(5)));
            NDArray ones = m.ones(new Shape(24, 1));
            assertClose(o.matMul(ones), ones, 1e-5, "O 1");
            assertClose(o.transpose().matMul(ones), ones, 1e-5, "O^T 1");
        }
    }

    @Test
    void theUnrestrictedRotationMovesTheAllOnesVector() {
        try (NDManager m = NDManager.newBaseManager()) {
            OrthogonalParameterization p = create(24, false);
            NDArray o = p.materialize(p.randomParams(m, new Random(5)));
            NDArray ones = m.ones(new Shape(24, 1));
            assertTrue(ParameterizationChecks.maxAbsDiff(o.matMul(ones), ones) > 0.1);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void identityParametersGiveTheIdentity(boolean fixOnes) {
        try (NDManager m = NDManager.newBaseManager()) {
            OrthogonalParameterization p = create(10, fixOnes);
            assertIdentity(p.materialize(p.identityParams(m)), 1e-6, "materialize(identityParams)");
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void gradientsOfTheElementAndItsInverseMatchFiniteDifferences(boolean fixOnes) {
        try (NDManager m = NDManager.newBaseManager()) {
            OrthogonalParameterization p = create(5, fixOnes);
            NDArray params = random64(p, m, 7);
            assertGradientMatchesFiniteDifferences(params, p::materialize, 1);
            assertGradientMatchesFiniteDifferences(params, p::materializeInverse, 2);
        }
    }

    @Test
    void paramsOfTheWrongShapeAreRejected() {
        try (NDManager m = NDManager.newBaseManager()) {
            OrthogonalParameterization p = create(6, true);
            assertThrows(IllegalArgumentException.class, () -> p.materialize(m.zeros(new Shape(6, 6))));
        }
    }

    @Test
    void float64ParametersGiveAFloat64ElementOrthogonalToRounding() {
        try (NDManager m = NDManager.newBaseManager()) {
            OrthogonalParameterization p = create(12, true);
            NDArray o = p.materialize(random64(p, m, 9));
            assertEquals(DataType.FLOAT64, o.getDataType());
            assertTrue(maxAbsFromIdentity(o.transpose().matMul(o)) < 1e-12);
        }
    }
}
