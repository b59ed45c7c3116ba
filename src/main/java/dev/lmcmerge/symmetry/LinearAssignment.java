package dev.lmcmerge.symmetry;

import java.util.Arrays;

/**
 * The linear assignment problem on a dense square matrix: the permutation perm (row i is
 * assigned column perm[i]) minimizing (or maximizing) sum_i cost[i][perm[i]].
 *
 * <p>Shortest augmenting path with dual potentials (the augmentation phase of Jonker-Volgenant,
 * as in scipy's linear_sum_assignment, without JV's initialization heuristics): one Dijkstra-like
 * search per row, O(n^3) in total. Written by hand because none of the project's libraries (DJL,
 * EJML) provides an assignment solver. Used by {@link Permutation} and by weight and activation
 * matching (package align).
 */
public final class LinearAssignment {
    private LinearAssignment() {
    }

    /** The assignment minimizing the total cost; {@code cost} must be square with finite entries. */
    public static int[] minimize(double[][] cost) {
        return solve(cost, false);
    }

    /** The assignment maximizing the total score; {@code score} must be square with finite entries. */
    public static int[] maximize(double[][] score) {
        return solve(score, true);
    }

    /** sum_i m[i][perm[i]]. */
    public static double total(double[][] m, int[] perm) {
        double s = 0;
        for (int i = 0; i < perm.length; i++) {
            s += m[i][perm[i]];
        }
        return s;
    }

    private static int[] solve(double[][] matrix, boolean maximize) {
        int n = matrix.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) {
            if (matrix[i].length != n) {
                throw new IllegalArgumentException("assignment needs a square matrix: row " + i + " has " + matrix[i].length
                        + " entries, expected " + n);
            }
            a[i] = new double[n];
            for (int j = 0; j < n; j++) {
                double x = matrix[i][j];
                if (!Double.isFinite(x)) {
                    throw new IllegalArgumentException("assignment needs finite entries: entry (" + i + ", " + j + ") is " + x);
                }
                a[i][j] = maximize ? -x : x;
            }
        }
        // 1-based arrays; column 0 is a virtual column holding the row being inserted.
        double[] u = new double[n + 1]; // row potentials
        double[] v = new double[n + 1]; // column potentials
        int[] rowOfCol = new int[n + 1]; // rowOfCol[j] = row (1-based) assigned to column j, 0 if none
        int[] way = new int[n + 1]; // predecessor column on the shortest path
        double[] minv = new double[n + 1];
        boolean[] used = new boolean[n + 1];
        for (int i = 1; i <= n; i++) {
            rowOfCol[0] = i;
            int j0 = 0;
            Arrays.fill(minv, Double.POSITIVE_INFINITY);
            Arrays.fill(used, false);
            do {
                used[j0] = true;
                int i0 = rowOfCol[j0];
                double delta = Double.POSITIVE_INFINITY;
                int j1 = -1;
                for (int j = 1; j <= n; j++) {
                    if (!used[j]) {
                        double reduced = a[i0 - 1][j - 1] - u[i0] - v[j];
                        if (reduced < minv[j]) {
                            minv[j] = reduced;
                            way[j] = j0;
                        }
                        if (minv[j] < delta) {
                            delta = minv[j];
                            j1 = j;
                        }
                    }
                }
                for (int j = 0; j <= n; j++) {
                    if (used[j]) {
                        u[rowOfCol[j]] += delta;
                        v[j] -= delta;
                    } else {
                        minv[j] -= delta;
                    }
                }
                j0 = j1;
            } while (rowOfCol[j0] != 0);
            do { // augment along the path back to the virtual column
                int j1 = way[j0];
                rowOfCol[j0] = rowOfCol[j1];
                j0 = j1;
            } while (j0 != 0);
        }
        int[] perm = new int[n];
        for (int j = 1; j <= n; j++) {
            perm[rowOfCol[j] - 1] = j - 1;
        }
        return perm;
    }
}
