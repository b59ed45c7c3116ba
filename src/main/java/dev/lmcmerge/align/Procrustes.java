package dev.lmcmerge.align;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * Orthogonal Procrustes: the orthogonal O minimizing ||X O - Y||_F, given only the cross
 * matrix M = X^T Y (so callers accumulate it over any number of stacked blocks). The solution
 * is the polar factor O = U V^T of M = U S V^T.
 *
 * <p>The engine's orthogonal parameterizations (Cayley, matrix exponential of a skew matrix)
 * only reach rotations (det +1), so {@link #rotation} solves the problem over SO(n) (Kabsch:
 * flip the singular direction of the smallest singular value when det(U V^T) = -1). For
 * LayerNorm models, {@link #rotationFixingOnes} restricts further to rotations that fix the
 * all-ones direction, solved on its (n-1)-dimensional complement in the same Householder basis
 * as {@code symmetry.MatrixFunctions.embedFixingOnes}.
 */
public final class Procrustes {
    private Procrustes() {
    }

    /** The orthogonal O (any determinant) maximizing tr(O^T M). */
    public static DMatrixRMaj orthogonal(DMatrixRMaj m) {
        return polar(m, false);
    }

    /** The rotation O (det +1) maximizing tr(O^T M). */
    public static DMatrixRMaj rotation(DMatrixRMaj m) {
        return polar(m, true);
    }

    private static DMatrixRMaj polar(DMatrixRMaj m, boolean special) {
        if (m.numRows != m.numCols) {
            throw new IllegalArgumentException("Procrustes needs a square cross matrix, got "
                    + m.numRows + "x" + m.numCols);
        }
        int n = m.numRows;
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(n, n, true, true, false);
        if (!svd.decompose(m.copy())) {
            throw new IllegalStateException("SVD did not converge on a " + n + "x" + n + " matrix");
        }
        DMatrixRMaj u = svd.getU(null, false);
        DMatrixRMaj w = svd.getW(null);
        DMatrixRMaj v = svd.getV(null, false);
        SingularOps_DDRM.descendingOrder(u, false, w, v, false);
        DMatrixRMaj o = new DMatrixRMaj(n, n);
        CommonOps_DDRM.multTransB(u, v, o);
        if (special && CommonOps_DDRM.det(o) < 0) {
            // Kabsch: the best rotation flips the direction of the smallest singular value.
            for (int i = 0; i < n; i++) {
                u.set(i, n - 1, -u.get(i, n - 1));
            }
            CommonOps_DDRM.multTransB(u, v, o);
        }
        return o;
    }

    /**
     * The rotation fixing the all-ones direction that maximizes tr(O^T M): O = H diag(1, O') H^T
     * with H = {@link #onesBasis}; with N = H^T M H, tr(O^T M) = N_00 + tr(O'^T N[1:,1:]), so O'
     * is the best rotation on the complement.
     */
    public static DMatrixRMaj rotationFixingOnes(DMatrixRMaj m) {
        int d = m.numRows;
        DMatrixRMaj h = onesBasis(d);
        DMatrixRMaj tmp = new DMatrixRMaj(d, d);
        DMatrixRMaj n = new DMatrixRMaj(d, d);
        CommonOps_DDRM.multTransA(h, m, tmp);
        CommonOps_DDRM.mult(tmp, h, n);
        return embedFixingOnes(rotation(DenseMatrices.block(n, 1, d, 1, d)), h);
    }

    /** O = H diag(1, O') H^T. */
    public static DMatrixRMaj embedFixingOnes(DMatrixRMaj complement, DMatrixRMaj h) {
        int d = h.numRows;
        DMatrixRMaj inner = CommonOps_DDRM.identity(d);
        CommonOps_DDRM.insert(complement, inner, 1, 1);
        DMatrixRMaj tmp = new DMatrixRMaj(d, d);
        DMatrixRMaj o = new DMatrixRMaj(d, d);
        CommonOps_DDRM.mult(h, inner, tmp);
        CommonOps_DDRM.multTransB(tmp, h, o);
        return o;
    }

    /**
     * The Householder reflection H = I - w w^T mapping e_1 to 1/sqrt(d) (first column all
     * 1/sqrt(d)); the same basis as {@code MatrixFunctions.embedFixingOnes}.
     */
    public static DMatrixRMaj onesBasis(int d) {
        double u = 1.0 / Math.sqrt(d);
        double f = Math.sqrt(2.0 / (2 - 2 * u));
        double[] w = new double[d];
        w[0] = (1 - u) * f;
        for (int i = 1; i < d; i++) {
            w[i] = -u * f;
        }
        DMatrixRMaj h = CommonOps_DDRM.identity(d);
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                h.add(i, j, -w[i] * w[j]);
            }
        }
        return h;
    }
}
