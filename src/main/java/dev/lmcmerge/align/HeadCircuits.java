package dev.lmcmerge.align;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * Squared Frobenius distances between attention circuits of two heads, invariant under every
 * head-internal map of the symmetry group, so heads can be matched before those maps are known.
 *
 * <p>QK with RoPE (rotate_half layout, plane j = rows (j, j + r/2) of the first r rows): the
 * invariant of plane j is the complex outer product u conj(w)^T, u = Q[j] + i Q[j + r/2],
 * w = K[j] + i K[j + r/2] (a scale-and-angle map z multiplies u by z and w by 1/conj(z)). Its
 * distance is |u|^2|w|^2 + |u'|^2|w'|^2 - 2 Re((u . conj u')(conj w . w')), O(columns) per plane.
 * Non-rotary rows f use the real circuit Q_f^T K_f, and VO uses O^T V; their inner products are
 * traces of small [rows x rows] products, never the [columns x columns] circuits themselves.
 */
final class HeadCircuits {
    private HeadCircuits() {
    }

    /** ||QK_A - QK_B||^2 for blocks [headDim, columns], the first {@code rotaryDim} rows rotary. */
    static double qkDistance2(DMatrixRMaj qa, DMatrixRMaj ka, DMatrixRMaj qb, DMatrixRMaj kb, int rotaryDim) {
        double d2 = qkInner(qa, ka, qa, ka, rotaryDim) + qkInner(qb, kb, qb, kb, rotaryDim)
                - 2 * qkInner(qa, ka, qb, kb, rotaryDim);
        return Math.max(0, d2);
    }

    /** ||O_A^T V_A - O_B^T V_B||^2 for blocks O [headDim, d], V [headDim, columns]. */
    static double ovDistance2(DMatrixRMaj oa, DMatrixRMaj va, DMatrixRMaj ob, DMatrixRMaj vb) {
        double d2 = traceProduct(oa, oa, va, va) + traceProduct(ob, ob, vb, vb) - 2 * traceProduct(oa, ob, vb, va);
        return Math.max(0, d2);
    }

    /** <QK_A, QK_B> (real Frobenius inner product, complex on rotary planes). */
    static double qkInner(DMatrixRMaj qa, DMatrixRMaj ka, DMatrixRMaj qb, DMatrixRMaj kb, int rotaryDim) {
        double s = rotaryInner(qa, ka, qb, kb, rotaryDim);
        int hd = qa.numRows;
        if (rotaryDim < hd) {
            s += traceProduct(DenseMatrices.block(qa, rotaryDim, hd, 0, qa.numCols),
                    DenseMatrices.block(qb, rotaryDim, hd, 0, qb.numCols),
                    DenseMatrices.block(kb, rotaryDim, hd, 0, kb.numCols),
                    DenseMatrices.block(ka, rotaryDim, hd, 0, ka.numCols));
        }
        return s;
    }

    /** The rotary planes' part of {@link #qkInner}: O(columns) per plane. */
    static double rotaryInner(DMatrixRMaj qa, DMatrixRMaj ka, DMatrixRMaj qb, DMatrixRMaj kb, int rotaryDim) {
        int half = rotaryDim / 2;
        double s = 0;
        for (int p = 0; p < half; p++) {
            double[] su = complexDot(qa, qb, p, p + half);
            double[] sw = complexDot(kb, ka, p, p + half); // sum conj(w_A) w_B = conj of sum w_A conj(w_B)
            s += su[0] * sw[0] - su[1] * sw[1];
        }
        return s;
    }

    /**
     * sum_c x_c conj(y_c) with x = X[re] + i X[im], y = Y[re] + i Y[im] (rows of two blocks), as {re, im}.
     */
    static double[] complexDot(DMatrixRMaj x, DMatrixRMaj y, int re, int im) {
        double r = 0;
        double i = 0;
        int n = x.numCols;
        for (int c = 0; c < n; c++) {
            double xr = x.get(re, c);
            double xi = x.get(im, c);
            double yr = y.get(re, c);
            double yi = y.get(im, c);
            r += xr * yr + xi * yi;
            i += xi * yr - xr * yi;
        }
        return new double[] {r, i};
    }

    /** tr((A B^T)(C D^T)) for blocks with matching column counts (A, B) and (C, D). */
    static double traceProduct(DMatrixRMaj a, DMatrixRMaj b, DMatrixRMaj c, DMatrixRMaj d) {
        DMatrixRMaj ab = new DMatrixRMaj(a.numRows, b.numRows);
        CommonOps_DDRM.multTransB(a, b, ab);
        DMatrixRMaj cd = new DMatrixRMaj(c.numRows, d.numRows);
        CommonOps_DDRM.multTransB(c, d, cd);
        double s = 0;
        for (int i = 0; i < ab.numRows; i++) {
            for (int j = 0; j < ab.numCols; j++) {
                s += ab.get(i, j) * cd.get(j, i);
            }
        }
        return s;
    }
}
