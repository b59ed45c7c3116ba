package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.lmcmerge.model.Nn;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/**
 * A hard n x n permutation matrix with a straight-through gradient.
 *
 * <p>Parameters: a latent score matrix Z (n x n). The forward value is the permutation matrix
 * P_hard maximizing sum_ij Z_ij P_ij (solved on the CPU by {@link LinearAssignment}); the
 * returned array is P_hard + (Z_soft - stopGradient(Z_soft)), numerically P_hard, whose gradient
 * with respect to Z is that of Z_soft: the log-domain Sinkhorn normalization of Z / tau
 * ({@link Gradient#SINKHORN}) or Z itself ({@link Gradient#IDENTITY}, as in Theus et al.).
 *
 * <p>Convention: P[i][perm[i]] = 1, so (P X) row i is X row perm[i]: "row i of the permuted
 * object is row perm[i] of the original". Applied to an output axis, W <- P W moves the unit
 * perm[i] to position i.
 */
public final class Permutation implements Parameterization {

    /** Which relaxation supplies the straight-through gradient. */
    public enum Gradient {
        /** Sinkhorn-normalized exp(Z / tau): a doubly-stochastic relaxation. */
        SINKHORN,
        /** Z itself: dL/dZ = dL/dP (Theus et al.). */
        IDENTITY
    }

    /** Standard deviation of the noise added to random (and identity-plus-noise) latents. */
    private static final double NOISE = 0.01;

    private final int n;
    private final Gradient gradient;
    private final double temperature;
    private final int iterations;

    /** Sinkhorn straight-through gradient with temperature 1 and 20 iterations. */
    public Permutation(int n) {
        this(n, Gradient.SINKHORN, 1.0, 20);
    }

    /**
     * @param n            number of permuted units
     * @param gradient     relaxation used for the straight-through gradient
     * @param temperature  Sinkhorn temperature tau (> 0; ignored for IDENTITY)
     * @param iterations   Sinkhorn row+column normalization rounds (>= 1; ignored for IDENTITY)
     */
    public Permutation(int n, Gradient gradient, double temperature, int iterations) {
        if (n < 1) {
            throw new IllegalArgumentException("Permutation needs n >= 1, got " + n);
        }
        if (!(temperature > 0) || iterations < 1) {
            throw new IllegalArgumentException("Sinkhorn needs temperature > 0 and iterations >= 1, got " + temperature + ", " + iterations);
        }
        this.n = n;
        this.gradient = gradient;
        this.temperature = temperature;
        this.iterations = iterations;
    }

    public int size() {
        return n;
    }

    public Gradient gradient() {
        return gradient;
    }

    @Override
    public Shape paramShape() {
        return new Shape(n, n);
    }

    /** The identity matrix: its unique best assignment is the identity permutation. */
    @Override
    public NDArray identityParams(NDManager manager) {
        return MatrixFunctions.eye(manager, n, DataType.FLOAT32);
    }

    /** A uniformly random permutation's matrix plus N(0, 0.01^2) noise. */
    @Override
    public NDArray randomParams(NDManager manager, Random rng) {
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        for (int i = n - 1; i > 0; i--) { // Fisher-Yates
            int j = rng.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        double[] z = RandomParams.gaussian(rng, n * n, NOISE);
        for (int i = 0; i < n; i++) {
            z[i * n + perm[i]] += 1;
        }
        return manager.create(z, paramShape()).toType(DataType.FLOAT32, false);
    }

    /** The index form of {@code perm}: a float vector [n] with entry i = perm[i] (exact below 2^24). */
    public NDArray indexParamsOf(int[] perm, NDManager manager) {
        validPermutation(perm);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = perm[i];
        }
        return manager.create(v, new Shape(n)).duplicate();
    }

    /** The permutation held by one copy's index form [n] (see {@link Slot#indexShape()}). */
    public int[] indicesOfIndexForm(NDArray row) {
        float[] v = row.toType(DataType.FLOAT32, false).toFloatArray();
        if (v.length != n) {
            throw new IllegalArgumentException("Permutation(" + n + ") index form has " + v.length + " entries");
        }
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = (int) v[i];
            if (perm[i] != v[i]) {
                throw new IllegalArgumentException("Permutation(" + n + ") index form entry " + i + " is " + v[i]
                        + ", not an integer");
            }
        }
        validPermutation(perm);
        return perm;
    }

    private void validPermutation(int[] perm) {
        if (perm.length != n) {
            throw new IllegalArgumentException("Permutation(" + n + ") got " + perm.length + " indices");
        }
        boolean[] seen = new boolean[n];
        for (int i = 0; i < n; i++) {
            if (perm[i] < 0 || perm[i] >= n || seen[perm[i]]) {
                throw new IllegalArgumentException("not a permutation of 0.." + (n - 1) + ": entry " + i + " is " + perm[i]);
            }
            seen[perm[i]] = true;
        }
    }

    /** Latent parameters whose hard permutation is {@code perm} (its matrix): seeds learning from matching. */
    public NDArray paramsOf(int[] perm, NDManager manager) {
        return matrixFor(perm, manager);
    }

    /** The hard permutation perm (P[i][perm[i]] = 1) maximizing sum_i Z[i][perm[i]]. */
    public int[] indices(NDArray params) {
        requireShape(params);
        int[] argmax = strictRowArgmax(params);
        if (argmax != null) {
            return argmax;
        }
        double[] z = params.stopGradient().toType(DataType.FLOAT64, false).toDoubleArray();
        double[][] m = new double[n][n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(z, i * n, m[i], 0, n);
        }
        return LinearAssignment.maximize(m);
    }

    /**
     * The row-wise argmax of Z if every row has a strict maximum and the argmaxes are distinct,
     * else null. Then it is the unique best assignment (any other one loses on some row and gains
     * on none), so the O(n^3) solver is skipped: the common case of latents that sit at a matched
     * or identity permutation, for which each apply used to solve an n x n problem (FFN width n)
     * on the JVM.
     */
    private int[] strictRowArgmax(NDArray params) {
        if (n == 1) {
            return new int[] {0};
        }
        NDList top = params.stopGradient().topK(2, 1); // one pass: the two largest of every row
        // strict maximum in every row (false for a tie, and for NaN): else leave it to the solver
        boolean strict = top.get(0).get(":, 0").gt(top.get(0).get(":, 1")).all().getBoolean();
        if (!strict) {
            return null;
        }
        long[] best = top.get(1).get(":, 0").toType(DataType.INT64, false).toLongArray();
        boolean[] seen = new boolean[n];
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            int j = (int) best[i];
            if (seen[j]) {
                return null;
            }
            seen[j] = true;
            perm[i] = j;
        }
        return perm;
    }

    /** The float32 permutation matrix with P[i][perm[i]] = 1 (so (P X)[i] = X[perm[i]]). */
    public static NDArray matrixFor(int[] perm, NDManager manager) {
        int n = perm.length;
        boolean[] seen = new boolean[n];
        float[] p = new float[n * n];
        for (int i = 0; i < n; i++) {
            if (perm[i] < 0 || perm[i] >= n || seen[perm[i]]) {
                throw new IllegalArgumentException("not a permutation of 0.." + (n - 1) + ": entry " + i + " is " + perm[i]);
            }
            seen[perm[i]] = true;
            p[i * n + perm[i]] = 1;
        }
        return manager.create(p, new Shape(n, n));
    }

    /**
     * The relaxation whose gradient the straight-through estimator passes on: Sinkhorn(Z / tau)
     * (rows then columns normalized in the log domain, {@code iterations} times, then exp) or Z.
     */
    public NDArray relaxed(NDArray params) {
        requireShape(params);
        if (gradient == Gradient.IDENTITY) {
            return params;
        }
        NDArray logP = Nn.over(params, temperature); // autograd-safe scalar (see Nn.times)
        for (int k = 0; k < iterations; k++) {
            logP = logP.logSoftmax(1).logSoftmax(0);
        }
        return logP.exp();
    }

    @Override
    public NDArray materialize(NDArray params) {
        NDArray hard = matrixFor(indices(params), params.getManager()).toType(params.getDataType(), false);
        NDArray soft = relaxed(params);
        return hard.add(soft.sub(soft.stopGradient()));
    }

    /** The transpose (a permutation's inverse), with the transposed straight-through gradient. */
    @Override
    public NDArray materializeInverse(NDArray params) {
        return materialize(params).transpose();
    }

    @Override
    public NDArray materializeInverseTranspose(NDArray params) {
        return materialize(params);
    }

    private void requireShape(NDArray params) {
        if (!params.getShape().equals(paramShape())) {
            throw new IllegalArgumentException("Permutation(" + n + ") expects parameters of shape " + paramShape()
                    + ", got " + params.getShape());
        }
    }
}
