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

/** {@link CayleyOrthogonal}: the shared contract, and recovering parameters from a rotation. */
class CayleyOrthogonalTest extends OrthogonalParameterizationContract {

    @Override
    OrthogonalParameterization create(int n, boolean fixOnes) {
        return new CayleyOrthogonal(n, fixOnes);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void paramsOfRecoversAGivenRotation(boolean fixOnes) {
        try (NDManager m = NDManager.newBaseManager()) {
            CayleyOrthogonal p = new CayleyOrthogonal(8, fixOnes);
            NDArray o = p.materialize(random64(p, m, 3));
            assertClose(p.materialize(p.paramsOf(o)), o, 1e-10, "materialize(paramsOf(O))");
        }
    }
}
