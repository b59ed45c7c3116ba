package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import dev.lmcmerge.model.Nn;
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
        return Nn.times(s.add(s.transpose()), 0.5); // Nn.times: autograd-safe scalar
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

    /**
     * Whether autograd may be recording through {@code a}. DJL's {@code NDArray.hasGradient()}
     * reports false for every non-leaf array in the PyTorch engine, so ask libtorch's grad mode,
     * which {@code GradientCollector} switches on; for other engines assume it may be recording.
     */
    private static boolean recordingGradients(NDArray a) {
        return !(a instanceof PtNDArray) || JniUtils.isGradMode();
    }

    private static NDArray pade13(NDArray a) {
        double norm1 = a.stopGradient().abs().sum(new int[] {0}).max().toType(DataType.FLOAT64, false).getDouble();
        int squarings = norm1 > THETA13 ? (int) Math.ceil(Math.log(norm1 / THETA13) / Math.log(2)) : 0;
        NDArray x = squarings == 0 ? a : Nn.over(a, Math.pow(2, squarings));
        NDArray eye = eyeLike(x);
        NDArray x2 = x.matMul(x);
        NDArray x4 = x2.matMul(x2);
        NDArray x6 = x4.matMul(x2);
        double[] b = PADE13;
        // Nn.times, not mul(double): scalars saved for backward must live in libtorch memory.
        NDArray uInner = x6.matMul(Nn.times(x6, b[13]).add(Nn.times(x4, b[11])).add(Nn.times(x2, b[9])))
                .add(Nn.times(x6, b[7])).add(Nn.times(x4, b[5])).add(Nn.times(x2, b[3])).add(Nn.times(eye, b[1]));
        NDArray u = x.matMul(uInner);
        NDArray v = x6.matMul(Nn.times(x6, b[12]).add(Nn.times(x4, b[10])).add(Nn.times(x2, b[8])))
                .add(Nn.times(x6, b[6])).add(Nn.times(x4, b[4])).add(Nn.times(x2, b[2])).add(Nn.times(eye, b[0]));
        NDArray r = v.sub(u).inverse().matMul(v.add(u));
        for (int i = 0; i < squarings; i++) {
            r = r.matMul(r);
        }
        return r;
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
