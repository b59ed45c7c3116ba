package dev.lmcmerge.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.symmetry.CayleyOrthogonal;
import dev.lmcmerge.symmetry.OrthogonalParameterization;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * Parameters of the engine's parameterizations for group elements found by matching (explicit
 * matrices), so a matching result is an ordinary {@code symmetry.Transform}:
 * Cayley S with (I - A)(I + A)^{-1} = O, A = S - S^T; matrix-exponential S with expm(S - S^T) = O;
 * polar (P1, P2) with expm(P1 - P1^T) expm((P2 + P2^T)/2) = M; RoPE planes (log|z|, arg z).
 * Computed in float64 (EJML) because DJL has no eigen or SVD solver.
 */
final class ElementParams {
    private ElementParams() {
    }

    /** Parameters of {@code p} whose element is the rotation {@code o} (fixing the ones direction if p does). */
    static NDArray rotation(OrthogonalParameterization p, DMatrixRMaj o, NDManager manager) {
        DMatrixRMaj inner = o;
        if (p.fixesOnes()) {
            int d = o.numRows;
            DMatrixRMaj h = Procrustes.onesBasis(d);
            DMatrixRMaj tmp = new DMatrixRMaj(d, d);
            DMatrixRMaj full = new DMatrixRMaj(d, d);
            CommonOps_DDRM.multTransA(h, o, tmp);
            CommonOps_DDRM.mult(tmp, h, full);
            inner = DenseMatrices.block(full, 1, d, 1, d);
        }
        DMatrixRMaj s;
        if (p instanceof CayleyOrthogonal) {
            // The Cayley map is an involution: A = (I - O)(I + O)^{-1}; S = (A - A^T)/4 so S - S^T = A.
            int n = inner.numRows;
            DMatrixRMaj eye = CommonOps_DDRM.identity(n);
            DMatrixRMaj iMinus = new DMatrixRMaj(n, n);
            DMatrixRMaj iPlus = new DMatrixRMaj(n, n);
            CommonOps_DDRM.subtract(eye, inner, iMinus);
            CommonOps_DDRM.add(eye, inner, iPlus);
            DMatrixRMaj inv = new DMatrixRMaj(n, n);
            if (!CommonOps_DDRM.invert(iPlus, inv)) {
                throw new IllegalStateException("rotation has eigenvalue -1: the Cayley parameterization cannot reach it");
            }
            DMatrixRMaj a = new DMatrixRMaj(n, n);
            CommonOps_DDRM.mult(iMinus, inv, a);
            s = new DMatrixRMaj(n, n);
            CommonOps_DDRM.subtract(a, CommonOps_DDRM.transpose(a, null), s);
            CommonOps_DDRM.scale(0.25, s);
        } else {
            s = skewLog(inner);
            CommonOps_DDRM.scale(0.5, s);
        }
        return DenseMatrices.toNd(manager, s);
    }

    /**
     * The real skew-symmetric logarithm L of a rotation U (expm(L) = U), from the commuting
     * symmetric and skew parts C = (U + U^T)/2, S = (U - U^T)/2: on each invariant plane
     * C = cos t, S = sin t J, so L = f(C) S with f(c) = acos(c) / sqrt(1 - c^2). Planes at angle
     * exactly pi (S = 0 there) have no unique logarithm and map to 0.
     */
    static DMatrixRMaj skewLog(DMatrixRMaj u) {
        int n = u.numRows;
        DMatrixRMaj ut = CommonOps_DDRM.transpose(u, null);
        DMatrixRMaj c = new DMatrixRMaj(n, n);
        CommonOps_DDRM.add(0.5, u, 0.5, ut, c);
        DMatrixRMaj skew = new DMatrixRMaj(n, n);
        CommonOps_DDRM.add(0.5, u, -0.5, ut, skew);
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(n, true, true);
        if (!eig.decompose(c.copy())) {
            throw new IllegalStateException("eigen decomposition failed in the rotation logarithm");
        }
        DMatrixRMaj f = new DMatrixRMaj(n, n);
        for (int k = 0; k < n; k++) {
            double ck = Math.max(-1, Math.min(1, eig.getEigenvalue(k).real));
            double t = Math.acos(ck);
            double fk = t < 1e-6 ? 1 + t * t / 6 : t / Math.sin(t);
            if (!Double.isFinite(fk) || Math.sin(t) < 1e-12) {
                fk = 0; // angle pi: S vanishes there, no real logarithm direction is defined
            }
            DMatrixRMaj v = eig.getEigenVector(k);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    f.add(i, j, fk * v.get(i, 0) * v.get(j, 0));
                }
            }
        }
        DMatrixRMaj l = new DMatrixRMaj(n, n);
        CommonOps_DDRM.mult(f, skew, l);
        // Symmetrize to exactly skew (f and S commute only up to rounding).
        DMatrixRMaj out = new DMatrixRMaj(n, n);
        CommonOps_DDRM.add(0.5, l, -0.5, CommonOps_DDRM.transpose(l, null), out);
        return out;
    }

    /**
     * Polar parameters [2, n, n] of an invertible map M = U P: P1 = log(U)/2, P2 = log(P). Maps
     * with det <= 0 are outside the parameterization's reach; the nearest reachable one (the
     * smallest singular direction of U flipped) is used instead.
     */
    static double[] polar(DMatrixRMaj m) {
        int n = m.numRows;
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(n, n, true, true, false);
        if (!svd.decompose(m.copy())) {
            throw new IllegalStateException("SVD failed on a head map");
        }
        DMatrixRMaj w = svd.getU(null, false);
        DMatrixRMaj sig = svd.getW(null);
        DMatrixRMaj v = svd.getV(null, false);
        SingularOps_DDRM.descendingOrder(w, false, sig, v, false);
        DMatrixRMaj u = new DMatrixRMaj(n, n);
        CommonOps_DDRM.multTransB(w, v, u);
        if (CommonOps_DDRM.det(u) < 0) {
            for (int i = 0; i < n; i++) {
                w.set(i, n - 1, -w.get(i, n - 1));
            }
            CommonOps_DDRM.multTransB(w, v, u);
        }
        double floor = Math.max(sig.get(0, 0), 1e-30) * 1e-6;
        DMatrixRMaj sym = new DMatrixRMaj(n, n);
        for (int k = 0; k < n; k++) {
            double ls = Math.log(Math.max(sig.get(k, k), floor));
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    sym.add(i, j, ls * v.get(i, k) * v.get(j, k));
                }
            }
        }
        DMatrixRMaj p1 = skewLog(u);
        CommonOps_DDRM.scale(0.5, p1);
        double[] out = new double[2 * n * n];
        System.arraycopy(p1.data, 0, out, 0, n * n);
        System.arraycopy(sym.data, 0, out, n * n, n * n);
        return out;
    }

    /** RopeCommutingMap parameters: [log|z_j| ..., arg z_j ..., polar(free) ...]. */
    static double[] ropeMap(double[][] planes, DMatrixRMaj free) {
        int half = planes.length;
        double[] f = free == null ? new double[0] : polar(free);
        double[] out = new double[2 * half + f.length];
        for (int j = 0; j < half; j++) {
            out[j] = planes[j][0];
            out[half + j] = planes[j][1];
        }
        System.arraycopy(f, 0, out, 2 * half, f.length);
        return out;
    }

    /** A float32 array of the given shape from doubles. */
    static NDArray array(NDManager manager, double[] values, Shape shape) {
        float[] v = new float[values.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) values[i];
        }
        return manager.create(v, shape);
    }
}
