package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Differentiable matrix functions built only from DJL NDArray operations (matMul, inverse,
 * elementwise arithmetic, concat), so DJL autograd differentiates them without custom backward
 * code. Every function keeps the data type of its argument (float32 in production, float64 in the
 * finite-difference tests) and creates its constants in the argument's {@link NDManager}.
 *
 * <p>Written by hand because DJL exposes neither a matrix exponential nor libtorch's
 * {@code matrix_exp}; EJML has neither autograd nor a matrix exponential.
 */
public final class MatrixFunctions {

    /**
     * Padé(13) coefficients b_0..b_13 of the scaling-and-squaring matrix exponential
     * (Higham, "The scaling and squaring method for the matrix exponential revisited", 2005).
     */
    private static final double[] PADE13 = {
        64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
        129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
        40840800.0, 960960.0, 16380.0, 182.0, 1.0
    };

    /** Largest 1-norm for which Padé(13) is accurate to double precision without scaling (Higham 2005). */
    private static final double THETA13 = 5.371920351148152;

    private MatrixFunctions() {
    }

    /** The n x n identity in {@code manager} with data type {@code type}. */
    public static NDArray eye(NDManager manager, int n, DataType type) {
        return manager.eye(n, n, 0, type);
    }

    /** The identity with the size of the square matrix {@code like}, in its manager and data type. */
    public static NDArray eyeLike(NDArray like) {
        return eye(like.getManager(), (int) like.getShape().get(0), like.getDataType());
    }

    /** S - S^T: a skew-symmetric matrix from an unconstrained square one. */
    public static NDArray skew(NDArray s) {
        requireSquare(s, "skew");
        return s.sub(s.transpose());
    }

    /** (S + S^T) / 2: the symmetric part of a square matrix. */
    public static NDArray sym(NDArray s) {
        requireSquare(s, "sym");
        return s.add(s.transpose()).mul(ownedScalar(s, 0.5)); // a scalar autograd may keep: libtorch-owned
    }

    /**
     * Cayley transform (I - A)(I + A)^{-1}. For skew-symmetric A the result is a rotation (det +1)
     * and I + A is always invertible; it never has eigenvalue -1.
     */
    public static NDArray cayley(NDArray a) {
        requireSquare(a, "cayley");
        NDArray eye = eyeLike(a);
        return eye.sub(a).matMul(eye.add(a).inverse());
    }

    /**
     * The inverse Cayley transform: the skew-symmetric A with cayley(A) = o, namely
     * (I - o)(I + o)^{-1} (the Cayley map is an involution). Requires I + o invertible.
     */
    public static NDArray inverseCayley(NDArray o) {
        return cayley(o);
    }

    /**
     * Matrix exponential by scaling and squaring with the diagonal Padé(13) approximant
     * (Higham 2005). The number of squarings s is chosen from the 1-norm of {@code a}; it is a
     * discrete constant, so the result is differentiable in {@code a} through matMul and inverse.
     * Because the diagonal Padé approximant satisfies r(-x) r(x) = 1, expm(-A) expm(A) = I to
     * rounding error, which the exact inverses of the parameterizations rely on. The value is computed
     * in float64 whatever the argument's type; the result has the argument's type.
     */
    public static NDArray expm(NDArray a) {
        requireSquare(a, "expm");
        return expmAny(a);
    }

    /**
     * {@link #expm} of every matrix of a batch {@code a} [G, n, n] at once, in a fixed number of
     * batched operations (whatever G is): the per-element form costs G times as many small native
     * calls, and on a busy machine each small call waits for libtorch's thread pool. One number of
     * squarings serves the whole batch (chosen from the largest 1-norm), so every element is the
     * same Padé(13) approximant as {@link #expm} would use or one with more squarings: equal to
     * rounding error, and expmBatch(-A) expmBatch(A) = I still holds element-wise when A and -A
     * are in the same batch or have equal norms. Differentiable in {@code a} as {@link #expm}.
     */
    public static NDArray expmBatch(NDArray a) {
        Shape s = a.getShape();
        if (s.dimension() != 3 || s.get(1) != s.get(2)) {
            throw new IllegalArgumentException("expmBatch needs a batch of square matrices [G, n, n], got shape " + s);
        }
        return expmAny(a);
    }

    /** expm of a square matrix or of a batch of them (leading axes are batch axes). */
    private static NDArray expmAny(NDArray a) {
        if (a.getDataType() == DataType.FLOAT64) {
            return pade13(a);
        }
        // Squarings amplify float32 rounding (O^T O - I reaches 2e-5 at n = 2048), so the value
        // is computed in float64. DJL's toType cuts the autograd graph, so when a gradient is
        // being recorded the float32 evaluation carries it: value of the float64 result, gradient
        // of the float32 one (they differ by float32 rounding only).
        NDArray accurate = pade13(a.stopGradient().toType(DataType.FLOAT64, false)).toType(a.getDataType(), false);
        if (!recordingGradients(a)) {
            return accurate;
        }
        NDArray differentiable = pade13(a);
        return differentiable.add(accurate.sub(differentiable).stopGradient());
    }

    /** S - S^T for every matrix of a batch [G, n, n]. */
    public static NDArray skewBatch(NDArray s) {
        return s.sub(s.transpose(0, 2, 1));
    }

    /** (S + S^T) / 2 for every matrix of a batch [G, n, n]. */
    public static NDArray symBatch(NDArray s) {
        return s.add(s.transpose(0, 2, 1)).mul(ownedScalar(s, 0.5)); // libtorch-owned scalar, as in sym
    }

    /** Every matrix of a batch [G, n, n] transposed. */
    public static NDArray transposeBatch(NDArray s) {
        return s.transpose(0, 2, 1);
    }

    /** The diagonal matrices [G, n, n] with the rows of {@code d} [G, n] on their diagonals (differentiable in d). */
    public static NDArray diagBatch(NDArray d) {
        long g = d.getShape().get(0);
        int n = (int) d.getShape().get(1);
        return eye(d.getManager(), n, d.getDataType()).expandDims(0).mul(d.reshape(g, 1, n));
    }

    /** blockDiag(a[i], b[i]) for two batches of square blocks [G, na, na] and [G, nb, nb]. */
    public static NDArray blockDiagBatch(NDArray a, NDArray b) {
        long g = a.getShape().get(0);
        long na = a.getShape().get(1);
        long nb = b.getShape().get(1);
        NDManager m = a.getManager();
        DataType t = a.getDataType();
        NDArray top = a.concat(m.zeros(new Shape(g, na, nb), t), 2);
        NDArray bottom = m.zeros(new Shape(g, nb, na), t).concat(b, 2);
        return top.concat(bottom, 1);
    }

    /**
     * Whether autograd may be recording through {@code a}. DJL's {@code NDArray.hasGradient()}
     * reports false for every non-leaf array in the PyTorch engine, so ask libtorch's grad mode,
     * which {@code GradientCollector} switches on; for other engines assume it may be recording.
     */
    private static boolean recordingGradients(NDArray a) {
        return !(a instanceof PtNDArray) || JniUtils.isGradMode();
    }

    /**
     * Padé(13) with scaling and squaring of a square matrix, or of each matrix of a batch
     * [G, n, n]. Each matrix of a batch gets the number of squarings its own 1-norm calls for
     * (scaling by an exact power of two, then squaring only the matrices that still need it), so
     * a matrix's exponential does not depend on the other matrices in its batch.
     */
    private static NDArray pade13(NDArray a) {
        int rows = a.getShape().dimension() - 2;
        // The 1-norm (largest column sum) of each matrix.
        double[] norms = a.stopGradient().abs().sum(new int[] {rows}).max(new int[] {rows})
                .toType(DataType.FLOAT64, false).toDoubleArray();
        int[] squarings = new int[norms.length];
        int most = 0;
        int least = Integer.MAX_VALUE;
        for (int i = 0; i < norms.length; i++) {
            squarings[i] = norms[i] > THETA13 ? (int) Math.ceil(Math.log(norms[i] / THETA13) / Math.log(2)) : 0;
            most = Math.max(most, squarings[i]);
            least = Math.min(least, squarings[i]);
        }
        NDArray x;
        if (most == 0) {
            x = a;
        } else if (most == least) {
            x = a.mul(ownedScalar(a, Math.pow(2, -most))); // exact: a power of two
        } else {
            double[] scale = new double[norms.length];
            for (int i = 0; i < scale.length; i++) {
                scale[i] = Math.pow(2, -squarings[i]); // exact: multiplying by it equals dividing by 2^s
            }
            x = a.mul(libtorchOwned(a.getManager().create(scale, new Shape(scale.length, 1, 1)), a.getDataType()));
        }
        int n = (int) a.getShape().get(rows + 1);
        NDArray eye = eye(a.getManager(), n, a.getDataType()); // broadcasts over batch axes
        NDArray x2 = x.matMul(x);
        NDArray x4 = x2.matMul(x2);
        NDArray x6 = x4.matMul(x2);
        // The four even polynomials of Padé(13) as one product of a 4 x 4 coefficient matrix with
        // the stacked powers [I, x2, x4, x6]: U = x (x6 p0 + p1), V = x6 p2 + p3. One op instead of
        // fourteen scalar multiplications and their additions.
        long batch = x2.getShape().size();
        NDArray powers = NDArrays.stack(new NDList(eye.broadcast(x2.getShape()), x2, x4, x6)).reshape(4, batch);
        NDArray poly = coefficients(a).matMul(powers).reshape(new Shape(4).addAll(x2.getShape()));
        NDArray u = x.matMul(x6.matMul(poly.get(0)).add(poly.get(1)));
        NDArray v = x6.matMul(poly.get(2)).add(poly.get(3));
        NDArray r = v.sub(u).inverse().matMul(v.add(u));
        for (int k = 0; k < most; k++) {
            if (k < least) {
                r = r.matMul(r);
                continue;
            }
            boolean[] more = new boolean[squarings.length];
            for (int i = 0; i < more.length; i++) {
                more[i] = squarings[i] > k;
            }
            NDArray mask = libtorchOwned(a.getManager().create(more, new Shape(more.length, 1, 1)), DataType.BOOLEAN)
                    .broadcast(r.getShape()); // DJL's where does not broadcast
            r = NDArrays.where(mask, r.matMul(r), r);
        }
        return r;
    }

    /**
     * The Padé(13) coefficients as the rows of U's inner polynomials (x6 part, rest) and V's (x6
     * part, rest) over the powers [I, x2, x4, x6], in libtorch-owned memory of {@code like}'s type.
     */
    private static NDArray coefficients(NDArray like) {
        double[] b = PADE13;
        double[] c = {
            0, b[9], b[11], b[13],
            b[1], b[3], b[5], b[7],
            0, b[8], b[10], b[12],
            b[0], b[2], b[4], b[6]};
        return libtorchOwned(like.getManager().create(c, new Shape(4, 4)), like.getDataType());
    }

    /** A 0-d {@code value} of {@code like}'s type in libtorch-owned memory, safe to keep for backward. */
    private static NDArray ownedScalar(NDArray like, double value) {
        return libtorchOwned(like.getManager().create(value), like.getDataType());
    }

    /**
     * A copy of a Java-backed array in libtorch-owned memory: autograd may keep an operand for
     * backward after the Java buffer is gone. ({@code Nn.times} converts the type for this, which
     * copies only when the type changes: not enough for float64 arguments.)
     */
    private static NDArray libtorchOwned(NDArray javaBacked, DataType type) {
        // duplicate() clones into libtorch memory; toType alone may return the same Java-backed array.
        NDArray typed = javaBacked.toType(type, false);
        NDArray owned = typed.duplicate();
        if (typed != javaBacked) {
            typed.close();
        }
        javaBacked.close();
        return owned;
    }

    /** The square matrix with {@code d} on its diagonal (differentiable in {@code d}). */
    public static NDArray diag(NDArray d) {
        int n = (int) d.getShape().get(0);
        return eye(d.getManager(), n, d.getDataType()).mul(d.reshape(1, n));
    }

    /** Block-diagonal matrix diag(a, b) of two square blocks; either may be 0 x 0. */
    public static NDArray blockDiag(NDArray a, NDArray b) {
        long na = a.getShape().get(0);
        long nb = b.getShape().get(0);
        if (na == 0) {
            return b;
        }
        if (nb == 0) {
            return a;
        }
        NDManager m = a.getManager();
        DataType t = a.getDataType();
        NDArray top = a.concat(m.zeros(new Shape(na, nb), t), 1);
        NDArray bottom = m.zeros(new Shape(nb, na), t).concat(b, 1);
        return top.concat(bottom, 0);
    }

    /**
     * H diag(1, inner) H^T for the fixed Householder reflection H that maps e_1 to the unit
     * all-ones direction 1/sqrt(n). If {@code inner} ((n-1) x (n-1)) is orthogonal, the result
     * is an orthogonal n x n matrix O with O 1 = 1 and O^T 1 = 1: exactly the rotations a
     * LayerNorm model's residual stream admits (DESIGN.md section 4, "Exact export").
     *
     * <p>H = I - w w^T with w = (e_1 - u) sqrt(2 / |e_1 - u|^2), u = 1/sqrt(n): applied as two
     * rank-one updates, so no dense H is ever stored and the cost is O(n^2) beyond the inner block.
     */
    public static NDArray embedFixingOnes(NDArray inner) {
        requireSquare(inner, "embedFixingOnes");
        int n = (int) inner.getShape().get(0) + 1;
        NDManager m = inner.getManager();
        DataType t = inner.getDataType();
        NDArray b = blockDiag(m.ones(new Shape(1, 1), t), inner);
        NDArray w = householderVector(m, n, t);
        NDArray wt = w.transpose();
        NDArray wB = wt.matMul(b); // [1, n]
        NDArray bw = b.matMul(w); // [n, 1]
        NDArray wBw = wB.matMul(w); // [1, 1]
        return b.sub(w.matMul(wB)).sub(bw.matMul(wt)).add(w.mul(wBw).matMul(wt));
    }

    /**
     * The inner (n-1) x (n-1) block of H^T o H (the inverse of {@link #embedFixingOnes} for an
     * o that fixes the all-ones direction). Not differentiable-critical: used to initialize
     * parameters from a given element.
     */
    public static NDArray innerOfFixingOnes(NDArray o) {
        requireSquare(o, "innerOfFixingOnes");
        int n = (int) o.getShape().get(0);
        NDArray w = householderVector(o.getManager(), n, o.getDataType());
        NDArray wt = w.transpose();
        NDArray wO = wt.matMul(o);
        NDArray ow = o.matMul(w);
        NDArray wOw = wO.matMul(w);
        NDArray full = o.sub(w.matMul(wO)).sub(ow.matMul(wt)).add(w.mul(wOw).matMul(wt));
        return full.get("1:, 1:");
    }

    /** Column vector w [n, 1] with H = I - w w^T the reflection mapping e_1 to 1/sqrt(n). */
    private static NDArray householderVector(NDManager m, int n, DataType t) {
        if (n < 2) {
            throw new IllegalArgumentException("a rotation fixing the all-ones direction needs n >= 2, got n = " + n);
        }
        double u = 1.0 / Math.sqrt(n);
        double norm2 = (1 - u) * (1 - u) + (n - 1) * u * u; // = 2 - 2u
        double f = Math.sqrt(2.0 / norm2);
        double[] w = new double[n];
        w[0] = (1 - u) * f;
        for (int i = 1; i < n; i++) {
            w[i] = -u * f;
        }
        return m.create(w, new Shape(n, 1)).toType(t, false);
    }

    private static void requireSquare(NDArray a, String what) {
        Shape s = a.getShape();
        if (s.dimension() != 2 || s.get(0) != s.get(1)) {
            throw new IllegalArgumentException(what + " needs a square matrix, got shape " + s);
        }
    }
}
