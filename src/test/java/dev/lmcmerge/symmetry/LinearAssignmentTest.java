package dev.lmcmerge.symmetry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LinearAssignmentTest {

    /** Best total over all n! permutations (Heap's algorithm). */
    private static double bruteForce(double[][] m, boolean maximize) {
        int n = m.length;
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        double best = LinearAssignment.total(m, perm);
        int[] c = new int[n];
        int i = 0;
        while (i < n) {
            if (c[i] < i) {
                int j = i % 2 == 0 ? 0 : c[i];
                int t = perm[j];
                perm[j] = perm[i];
                perm[i] = t;
                double total = LinearAssignment.total(m, perm);
                best = maximize ? Math.max(best, total) : Math.min(best, total);
                c[i]++;
                i = 0;
            } else {
                c[i] = 0;
                i++;
            }
        }
        return best;
    }

    private static void assertPermutation(int[] perm) {
        boolean[] seen = new boolean[perm.length];
        for (int p : perm) {
            assertTrue(p >= 0 && p < perm.length && !seen[p], "not a permutation");
            seen[p] = true;
        }
    }

    /** Entries in [-5, 5]: continuous, or small integers (many ties). */
    private static double[][] random(Random rng, int n, boolean ties) {
        double[][] m = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                m[i][j] = ties ? rng.nextInt(4) - 2 : 10 * rng.nextDouble() - 5;
            }
        }
        return m;
    }

    @Test
    void minimizeFindsTheBruteForceOptimumOnSmallMatrices() {
        Random rng = new Random(1);
        for (int n = 1; n <= 7; n++) {
            for (int seed = 0; seed < 60; seed++) {
                double[][] m = random(rng, n, seed % 2 == 0);
                int[] perm = LinearAssignment.minimize(m);
                assertPermutation(perm);
                assertEquals(bruteForce(m, false), LinearAssignment.total(m, perm), 1e-9, "n = " + n + ", seed " + seed);
            }
        }
    }

    @Test
    void maximizeFindsTheBruteForceOptimumOnSmallMatrices() {
        Random rng = new Random(2);
        for (int n = 1; n <= 7; n++) {
            for (int seed = 0; seed < 60; seed++) {
                double[][] m = random(rng, n, seed % 2 == 1);
                int[] perm = LinearAssignment.maximize(m);
                assertPermutation(perm);
                assertEquals(bruteForce(m, true), LinearAssignment.total(m, perm), 1e-9, "n = " + n + ", seed " + seed);
            }
        }
    }

    @Test
    void aPlantedPermutationWithADominantScoreIsRecoveredOnALargeMatrix() {
        Random rng = new Random(3);
        int n = 300;
        int[] planted = new int[n];
        for (int i = 0; i < n; i++) {
            planted[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = planted[i];
            planted[i] = planted[j];
            planted[j] = t;
        }
        double[][] m = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                m[i][j] = rng.nextDouble();
            }
            m[i][planted[i]] += 2; // every other assignment loses at least 2 - 1 per moved row
        }
        assertArrayEquals(planted, LinearAssignment.maximize(m));
    }

    @Test
    void allEqualEntriesStillGiveAPermutation() {
        double[][] m = new double[5][5];
        int[] perm = LinearAssignment.minimize(m);
        assertPermutation(perm);
    }

    @Test
    void nonSquareOrNonFiniteInputIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> LinearAssignment.minimize(new double[][] {{1, 2}, {3}}));
        assertThrows(IllegalArgumentException.class, () -> LinearAssignment.maximize(new double[][] {{1, Double.NaN}, {3, 4}}));
        assertThrows(IllegalArgumentException.class,
                () -> LinearAssignment.minimize(new double[][] {{1, Double.POSITIVE_INFINITY}, {3, 4}}));
    }

    @Test
    void anEmptyMatrixHasTheEmptyAssignment() {
        assertEquals(0, LinearAssignment.minimize(new double[0][0]).length);
    }
}
