package dev.lmcmerge.symmetry;

import java.util.Random;

/**
 * Plain-Java random arrays for {@link Parameterization#randomParams}: drawn from the caller's
 * {@link Random} so a seed reproduces the same element on every machine and engine.
 */
final class RandomParams {
    private RandomParams() {
    }

    /** n*n (row-major) independent normals with standard deviation {@code std}. */
    static double[] gaussian(Random rng, int count, double std) {
        double[] out = new double[count];
        for (int i = 0; i < count; i++) {
            out[i] = rng.nextGaussian() * std;
        }
        return out;
    }

    /** {@code count} values uniform in [lo, hi). */
    static double[] uniform(Random rng, int count, double lo, double hi) {
        double[] out = new double[count];
        for (int i = 0; i < count; i++) {
            out[i] = lo + (hi - lo) * rng.nextDouble();
        }
        return out;
    }

    /**
     * A random symmetric n x n matrix Q diag(lambda) Q^T (row-major) with eigenvalues uniform in
     * [-spread/2, spread/2], so exp of it has condition number at most e^spread.
     */
    static double[] symmetricWithSpread(Random rng, int n, double spread) {
        double[][] q = orthonormalRows(rng, n);
        double[] lambda = uniform(rng, n, -spread / 2, spread / 2);
        double[] out = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += q[k][i] * lambda[k] * q[k][j];
                }
                out[i * n + j] = s;
            }
        }
        return out;
    }

    /** Rows of a random orthogonal matrix by Gram-Schmidt on Gaussian rows. */
    private static double[][] orthonormalRows(Random rng, int n) {
        double[][] q = new double[n][];
        for (int i = 0; i < n; i++) {
            double[] v;
            double norm;
            do {
                v = gaussian(rng, n, 1.0);
                for (int k = 0; k < i; k++) {
                    double dot = 0;
                    for (int j = 0; j < n; j++) {
                        dot += v[j] * q[k][j];
                    }
                    for (int j = 0; j < n; j++) {
                        v[j] -= dot * q[k][j];
                    }
                }
                double s = 0;
                for (double x : v) {
                    s += x * x;
                }
                norm = Math.sqrt(s);
            } while (norm < 1e-6);
            for (int j = 0; j < n; j++) {
                v[j] /= norm;
            }
            q[i] = v;
        }
        return q;
    }
}
