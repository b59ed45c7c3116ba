package dev.lmcmerge.symmetry;

import static dev.lmcmerge.symmetry.ParameterizationChecks.assertClose;
import static dev.lmcmerge.symmetry.ParameterizationChecks.assertGradientMatchesFiniteDifferences;
import static dev.lmcmerge.symmetry.ParameterizationChecks.assertIdentity;
import static dev.lmcmerge.symmetry.ParameterizationChecks.autogradOfLinearFunctional;
import static dev.lmcmerge.symmetry.ParameterizationChecks.random64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PermutationTest {

    @Test
    void identityParametersGiveTheIdentityPermutation() {
        try (NDManager m = NDManager.newBaseManager()) {
            Permutation p = new Permutation(6);
            NDArray params = p.identityParams(m);
            assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, p.indices(params));
            assertIdentity(p.materialize(params), 0, "materialize(identityParams)");
        }
    }

    @Test
    void theElementIsExactlyThePermutationMatrixOfTheIndices() {
        try (NDManager m = NDManager.newBaseManager()) {
            Permutation p = new Permutation(12);
            NDArray params = p.randomParams(m, new Random(3));
            int[] perm = p.indices(params);
            NDArray element = p.materialize(params);
            assertClose(element, Permutation.matrixFor(perm, m), 0, "materialize = matrixFor(indices)");
            assertIdentity(element.matMul(p.materializeInverse(params)), 0, "P P^{-1}");
        }
    }

    @Test
    void randomParametersAreARandomPermutationNotTheIdentity() {
        try (NDManager m = NDManager.newBaseManager()) {
            Permutation p = new Permutation(32);
            int[] perm = p.indices(p.randomParams(m, new Random(9)));
            int fixedPoints = 0;
            for (int i = 0; i < perm.length; i++) {
                fixedPoints += perm[i] == i ? 1 : 0;
            }
            assertTrue(fixedPoints < 8, fixedPoints + " fixed points");
        }
    }

    @Test
    void rowIOfThePermutedObjectIsRowPermIOfTheOriginal() {
        try (NDManager m = NDManager.newBaseManager()) {
            int[] perm = {2, 0, 3, 1};
            NDArray x = m.arange(0f, 8f).reshape(4, 2); // row r = [2r, 2r + 1]
            float[] permuted = Permutation.matrixFor(perm, m).matMul(x).toFloatArray();
            for (int i = 0; i < 4; i++) {
                assertEquals(2f * perm[i], permuted[2 * i]);
                assertEquals(2f * perm[i] + 1, permuted[2 * i + 1]);
            }
        }
    }

    @Test
    void indicesMaximizeTheLatentScore() {
        try (NDManager m = NDManager.newBaseManager()) {
            Permutation p = new Permutation(5);
            NDArray z = m.create(RandomParams.gaussian(new Random(1), 25, 1.0), new Shape(5, 5));
            int[] perm = p.indices(z);
            double[][] scores = new double[5][5];
            double[] flat = z.toDoubleArray();
            for (int i = 0; i < 5; i++) {
                System.arraycopy(flat, 5 * i, scores[i], 0, 5);
            }
            assertArrayEquals(LinearAssignment.maximize(scores), perm);
        }
    }

    @Test
    void latentsWhoseRowMaximaCollideStillGetTheBestAssignment() {
        try (NDManager m = NDManager.newBaseManager()) {
            // Rows 0 and 1 both peak in column 0: the row-wise argmax is not a permutation.
            double[] z = {
                5, 4, 0,
                5, 0, 1,
                0, 0, 3};
            Permutation p = new Permutation(3);
            assertArrayEquals(new int[] {1, 0, 2}, p.indices(m.create(z, new Shape(3, 3))));
        }
    }

    @Test
    void aTieWithinARowIsResolvedByTheAssignmentSolver() {
        try (NDManager m = NDManager.newBaseManager()) {
            // Row 0 has two equal maxima; row 1 needs column 0, so row 0 must take column 1.
            double[] z = {
                2, 2, 0,
                3, 0, 0,
                0, 0, 1};
            Permutation p = new Permutation(3);
            assertArrayEquals(new int[] {1, 0, 2}, p.indices(m.create(z, new Shape(3, 3))));
        }
    }

    @Test
    void aLatentAtAPermutationGivesThatPermutationAtFFNWidth() {
        try (NDManager m = NDManager.newBaseManager()) {
            int n = 3072; // the row-wise shortcut makes this instant; the solver alone takes a while
            Permutation p = new Permutation(n);
            NDArray z = p.randomParams(m, new Random(5));
            int[] perm = p.indices(z);
            float[] flat = z.toFloatArray();
            boolean[] seen = new boolean[n];
            for (int i = 0; i < n; i++) {
                assertTrue(flat[i * n + perm[i]] > 0.5f, "row " + i + " not at its peak");
                assertTrue(!seen[perm[i]], "column " + perm[i] + " used twice");
                seen[perm[i]] = true;
            }
        }
    }

    @Test
    void matrixForRejectsAnArrayThatIsNotAPermutation() {
        try (NDManager m = NDManager.newBaseManager()) {
            assertThrows(IllegalArgumentException.class, () -> Permutation.matrixFor(new int[] {0, 0, 1}, m));
            assertThrows(IllegalArgumentException.class, () -> Permutation.matrixFor(new int[] {0, 3, 1}, m));
        }
    }

    @ParameterizedTest
    @EnumSource(Permutation.Gradient.class)
    void theStraightThroughGradientIsTheGradientOfTheRelaxation(Permutation.Gradient kind) {
        try (NDManager m = NDManager.newBaseManager()) {
            Permutation p = new Permutation(6, kind, 0.5, 20);
            NDArray params = random64(p, m, 4);
            double[] throughHard = autogradOfLinearFunctional(params, p::materialize, 1);
            double[] ofRelaxation = autogradOfLinearFunctional(params, p::relaxed, 1);
            assertArrayEquals(ofRelaxation, throughHard, 1e-12);
            double[] throughInverse = autogradOfLinearFunctional(params, p::materializeInverse, 2);
            double[] ofRelaxationT = autogradOfLinearFunctional(params, z -> p.relaxed(z).transpose(), 2);
            assertArrayEquals(ofRelaxationT, throughInverse, 1e-12);
        }
    }

    @Test
    void theSinkhornRelaxationGradientMatchesFiniteDifferences() {
        try (NDManager m = NDManager.newBaseManager()) {
            Permutation p = new Permutation(5, Permutation.Gradient.SINKHORN, 0.7, 10);
            assertGradientMatchesFiniteDifferences(random64(p, m, 5), p::relaxed, 1);
        }
    }

    @Test
    void theIdentityRelaxationPassesTheUpstreamGradientUnchanged() {
        try (NDManager m = NDManager.newBaseManager()) {
            Permutation p = new Permutation(4, Permutation.Gradient.IDENTITY, 1, 1);
            NDArray params = random64(p, m, 6);
            double[] grad = autogradOfLinearFunctional(params, p::materialize, 3);
            double[] upstream = ParameterizationChecks.weights(params, 3).toDoubleArray();
            assertArrayEquals(upstream, grad, 1e-12);
        }
    }

    @Test
    void theSinkhornRelaxationIsNearlyDoublyStochastic() {
        try (NDManager m = NDManager.newBaseManager()) {
            Permutation p = new Permutation(8);
            NDArray soft = p.relaxed(random64(p, m, 7));
            NDArray ones = m.ones(new Shape(8), DataType.FLOAT64);
            assertClose(soft.sum(new int[] {0}), ones, 1e-9, "column sums");
            assertClose(soft.sum(new int[] {1}), ones, 1e-3, "row sums");
            assertFalse(soft.lt(0).any().getBoolean(), "negative entries");
        }
    }

    @Test
    void float64ParametersGiveAFloat64Element() {
        try (NDManager m = NDManager.newBaseManager()) {
            Permutation p = new Permutation(3);
            assertEquals(DataType.FLOAT64, p.materialize(random64(p, m, 1)).getDataType());
        }
    }
}
