package dev.lmcmerge.align;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

/**
 * Least-squares fit of a head-internal map that acts on one side directly and on the other
 * through its inverse transpose (QK) or inverse (VO). Both residuals are written linearly in
 * the map X:
 *
 * <pre>
 *   QK:  q_B' = X q_B ~ q_A  and  k_B' = X^{-T} k_B ~ k_A  <=>  k_B ~ X^T k_A
 *        min ||X Qb - Qa||^2 + ||Ka^T X - Kb^T||^2
 *   VO:  v_B' = X v_B ~ v_A  and  O_B' = O_B X^{-1} ~ O_A  <=>  O_B ~ O_A X
 *        min ||X Vb - Va||^2 + ||Oa X - Ob||^2
 * </pre>
 *
 * Both normal equations are the Sylvester equation P X + X R = C with P, R symmetric positive
 * semidefinite, solved in closed form in the eigenbases of P and R. The fit is exact when B is an
 * exact transform of A (both residuals vanish at the planted map). A small ridge toward the
 * identity keeps X defined when the weights do not span every direction.
 */
public final class SylvesterFit {
    private final int n;
    private final DMatrixRMaj p;
    private final DMatrixRMaj r;
    private final DMatrixRMaj c;

    /** An empty accumulator for an n x n map. */
    public SylvesterFit(int n) {
        this.n = n;
        this.p = new DMatrixRMaj(n, n);
        this.r = new DMatrixRMaj(n, n);
        this.c = new DMatrixRMaj(n, n);
    }

    /**
     * Adds the term ||X fromB - toA||^2 (the map acts directly), with fromB, toA of shape [n, m]
     * (columns are samples, e.g. the residual inputs of a head's query rows).
     */
    public SylvesterFit addDirect(DMatrixRMaj fromB, DMatrixRMaj toA) {
        // R += fromB fromB^T ; C += toA fromB^T
        CommonOps_DDRM.multAddTransB(fromB, fromB, r);
        CommonOps_DDRM.multAddTransB(toA, fromB, c);
        return this;
    }

    /**
     * Adds the term ||leftA X - rightB||^2 with leftA, rightB of shape [m, n]; this is the
     * inverse-side residual rewritten linearly (rows of k_A^T, or the head's W_O columns of A).
     */
    public SylvesterFit addLeft(DMatrixRMaj leftA, DMatrixRMaj rightB) {
        // P += leftA^T leftA ; C += leftA^T rightB
        CommonOps_DDRM.multAddTransA(leftA, leftA, p);
        CommonOps_DDRM.multAddTransA(leftA, rightB, c);
        return this;
    }

    /** Solves P X + X R + rho X = C + rho I, with rho a tiny multiple of the data scale. */
    public DMatrixRMaj solve() {
        double scale = (CommonOps_DDRM.trace(p) + CommonOps_DDRM.trace(r)) / Math.max(1, n);
        double rho = 1e-10 * Math.max(scale, 1e-30);
        EigenDecomposition_F64<DMatrixRMaj> ep = symmetricEigen(p);
        EigenDecomposition_F64<DMatrixRMaj> er = symmetricEigen(r);
        DMatrixRMaj u = vectors(ep);
        DMatrixRMaj v = vectors(er);
        DMatrixRMaj rhs = c.copy();
        for (int i = 0; i < n; i++) {
            rhs.add(i, i, rho);
        }
        DMatrixRMaj tmp = new DMatrixRMaj(n, n);
        DMatrixRMaj t = new DMatrixRMaj(n, n);
        CommonOps_DDRM.multTransA(u, rhs, tmp);
        CommonOps_DDRM.mult(tmp, v, t);
        for (int i = 0; i < n; i++) {
            double li = ep.getEigenvalue(i).real;
            for (int j = 0; j < n; j++) {
                t.set(i, j, t.get(i, j) / (li + er.getEigenvalue(j).real + rho));
            }
        }
        DMatrixRMaj x = new DMatrixRMaj(n, n);
        CommonOps_DDRM.mult(u, t, tmp);
        CommonOps_DDRM.multTransB(tmp, v, x);
        return x;
    }

    private static EigenDecomposition_F64<DMatrixRMaj> symmetricEigen(DMatrixRMaj m) {
        EigenDecomposition_F64<DMatrixRMaj> e = DecompositionFactory_DDRM.eig(m.numRows, true, true);
        if (!e.decompose(m.copy())) {
            throw new IllegalStateException("symmetric eigen decomposition did not converge");
        }
        return e;
    }

    private static DMatrixRMaj vectors(EigenDecomposition_F64<DMatrixRMaj> e) {
        int n = e.getNumberOfEigenvalues();
        DMatrixRMaj u = new DMatrixRMaj(n, n);
        for (int j = 0; j < n; j++) {
            DMatrixRMaj col = e.getEigenVector(j);
            for (int i = 0; i < n; i++) {
                u.set(i, j, col.get(i, 0));
            }
        }
        return u;
    }
}
