package dev.lmcmerge.align;

import dev.lmcmerge.symmetry.HeadRole;
import java.util.ArrayList;
import java.util.List;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * Head-internal maps of one KV group by least squares, B already permuted so its group g faces
 * A's. The maps act on one side directly and on the other through their inverse transpose, so the
 * true objective is not quadratic:
 *
 * <pre>
 *   QK:  E(X) = sum_heads ||X Q_B - Q_A||^2 + ||X^{-T} K_B - K_A||^2
 *   VO:  E(C) = ||C V_B - V_A||^2 + sum_heads ||C^{-T} O_B - O_A||^2      (O: W_O columns as rows)
 * </pre>
 *
 * On RoPE planes X is a complex scale z: its phase is the closed-form best rotation of both u and
 * w, its modulus the 1-D minimizer of E. On a general block three candidates are scored with the
 * true E and the best is kept: the linearized least-squares solution ({@link SylvesterFit}, exact
 * when B is an exact transform of A, but free to become nearly singular between independent
 * models, which E then punishes through the inverse), the best rotation (Procrustes on the stacked
 * rows, where the inverse transpose is the map itself) and the identity.
 */
final class HeadMapFit {
    private HeadMapFit() {
    }

    /** The fitted QK map of one group: per-plane (log scale, angle) and the non-rotary block (or null). */
    record Qk(double[][] planes, DMatrixRMaj free) {
    }

    static Qk qk(HeadBlocks a, HeadBlocks b, int g, int rotaryDim) {
        int half = rotaryDim / 2;
        int hd = a.headDim;
        int gs = a.groupSize();
        DMatrixRMaj ka = a.block(HeadRole.K, g);
        DMatrixRMaj kb = b.block(HeadRole.K, g);
        double[][] planes = new double[half][2];
        for (int p = 0; p < half; p++) {
            double[] su = {0, 0}; // sum over the group's query heads of u_A conj(u_B)
            double uB = 0;
            for (int i = 0; i < gs; i++) {
                DMatrixRMaj qa = a.block(HeadRole.Q, g * gs + i);
                DMatrixRMaj qb = b.block(HeadRole.Q, g * gs + i);
                double[] s = HeadCircuits.complexDot(qa, qb, p, p + half);
                su[0] += s[0];
                su[1] += s[1];
                uB += HeadCircuits.complexDot(qb, qb, p, p + half)[0];
            }
            double[] sw = HeadCircuits.complexDot(ka, kb, p, p + half); // w_A conj(w_B)
            double wB = HeadCircuits.complexDot(kb, kb, p, p + half)[0];
            // Phase: z = rho e acts as u -> z u and w -> (e / rho) w; the best e for both is the phase of su + sw.
            double er = su[0] + sw[0];
            double ei = su[1] + sw[1];
            double mod = Math.hypot(er, ei);
            if (!(mod > 0)) {
                continue; // no signal on this plane: identity
            }
            er /= mod;
            ei /= mod;
            double pu = er * su[0] + ei * su[1]; // Re(conj(e) su)
            double qw = er * sw[0] + ei * sw[1]; // Re(conj(e) sw)
            planes[p][0] = bestLogModulus(uB, pu, wB, qw);
            planes[p][1] = Math.atan2(ei, er);
        }
        DMatrixRMaj free = null;
        if (rotaryDim < hd) {
            List<DMatrixRMaj> qa = new ArrayList<>();
            List<DMatrixRMaj> qb = new ArrayList<>();
            for (int i = 0; i < gs; i++) {
                qa.add(rows(a.block(HeadRole.Q, g * gs + i), rotaryDim, hd));
                qb.add(rows(b.block(HeadRole.Q, g * gs + i), rotaryDim, hd));
            }
            free = best(qb, qa, List.of(rows(kb, rotaryDim, hd)), List.of(rows(ka, rotaryDim, hd)));
        }
        return new Qk(planes, free);
    }

    /** The VO map C of group {@code g}. */
    static DMatrixRMaj vo(HeadBlocks a, HeadBlocks b, int g) {
        int gs = a.groupSize();
        List<DMatrixRMaj> oa = new ArrayList<>();
        List<DMatrixRMaj> ob = new ArrayList<>();
        for (int i = 0; i < gs; i++) {
            oa.add(a.block(HeadRole.O, g * gs + i));
            ob.add(b.block(HeadRole.O, g * gs + i));
        }
        return best(List.of(b.block(HeadRole.V, g)), List.of(a.block(HeadRole.V, g)), ob, oa);
    }

    /**
     * The best of (least squares, rotation, identity) for E(X) = sum ||X D_B - D_A||^2 + sum ||X^{-T} I_B - I_A||^2,
     * D the directly mapped blocks, I the inverse-transposed ones (all [n, columns]).
     */
    static DMatrixRMaj best(List<DMatrixRMaj> directB, List<DMatrixRMaj> directA, List<DMatrixRMaj> inverseB,
                            List<DMatrixRMaj> inverseA) {
        int n = directA.get(0).numRows;
        List<DMatrixRMaj> candidates = new ArrayList<>();
        candidates.add(CommonOps_DDRM.identity(n));
        DMatrixRMaj cross = new DMatrixRMaj(n, n); // sum A B^T over both kinds (a rotation's inverse transpose is itself)
        for (int i = 0; i < directA.size(); i++) {
            CommonOps_DDRM.multAddTransB(directA.get(i), directB.get(i), cross);
        }
        for (int i = 0; i < inverseA.size(); i++) {
            CommonOps_DDRM.multAddTransB(inverseA.get(i), inverseB.get(i), cross);
        }
        candidates.add(Procrustes.rotation(cross));
        SylvesterFit fit = new SylvesterFit(n);
        for (int i = 0; i < directA.size(); i++) {
            fit.addDirect(directB.get(i), directA.get(i));
        }
        for (int i = 0; i < inverseA.size(); i++) {
            // X^{-T} I_B ~ I_A  <=>  I_B ~ X^T I_A  <=>  I_B^T ~ I_A^T X
            fit.addLeft(CommonOps_DDRM.transpose(inverseA.get(i), null), CommonOps_DDRM.transpose(inverseB.get(i), null));
        }
        DMatrixRMaj ls = fit.solve();
        if (CommonOps_DDRM.det(ls) > 0) { // the polar parameterization reaches det > 0 only
            candidates.add(ls);
        }
        DMatrixRMaj best = null;
        double bestE = Double.POSITIVE_INFINITY;
        for (DMatrixRMaj x : candidates) {
            double e = objective(x, directB, directA, inverseB, inverseA);
            if (e < bestE) {
                bestE = e;
                best = x;
            }
        }
        return best;
    }

    static double objective(DMatrixRMaj x, List<DMatrixRMaj> directB, List<DMatrixRMaj> directA,
                            List<DMatrixRMaj> inverseB, List<DMatrixRMaj> inverseA) {
        int n = x.numRows;
        DMatrixRMaj inv = new DMatrixRMaj(n, n);
        if (!CommonOps_DDRM.invert(x.copy(), inv)) {
            return Double.POSITIVE_INFINITY;
        }
        DMatrixRMaj invT = CommonOps_DDRM.transpose(inv, null);
        double e = 0;
        for (int i = 0; i < directA.size(); i++) {
            e += residual2(x, directB.get(i), directA.get(i));
        }
        for (int i = 0; i < inverseA.size(); i++) {
            e += residual2(invT, inverseB.get(i), inverseA.get(i));
        }
        return Double.isFinite(e) ? e : Double.POSITIVE_INFINITY;
    }

    private static double residual2(DMatrixRMaj x, DMatrixRMaj b, DMatrixRMaj a) {
        DMatrixRMaj r = new DMatrixRMaj(a.numRows, a.numCols);
        CommonOps_DDRM.mult(x, b, r);
        CommonOps_DDRM.subtractEquals(r, a);
        double s = 0;
        for (int i = 0; i < r.getNumElements(); i++) {
            s += r.data[i] * r.data[i];
        }
        return s;
    }

    /**
     * log rho minimizing f(rho) = U rho^2 - 2 p rho + W / rho^2 - 2 q / rho (the plane's E along the
     * best phase), by golden-section search on log rho in [-6, 6]: f is smooth and, for data
     * from an exact transform, has its unique minimum at the planted modulus.
     */
    static double bestLogModulus(double u, double p, double w, double q) {
        double lo = -6;
        double hi = 6;
        double phi = (Math.sqrt(5) - 1) / 2;
        double x1 = hi - phi * (hi - lo);
        double x2 = lo + phi * (hi - lo);
        double f1 = planeObjective(x1, u, p, w, q);
        double f2 = planeObjective(x2, u, p, w, q);
        for (int it = 0; it < 200 && hi - lo > 1e-13; it++) {
            if (f1 < f2) {
                hi = x2;
                x2 = x1;
                f2 = f1;
                x1 = hi - phi * (hi - lo);
                f1 = planeObjective(x1, u, p, w, q);
            } else {
                lo = x1;
                x1 = x2;
                f1 = f2;
                x2 = lo + phi * (hi - lo);
                f2 = planeObjective(x2, u, p, w, q);
            }
        }
        double t = (lo + hi) / 2;
        return planeObjective(t, u, p, w, q) <= planeObjective(0, u, p, w, q) ? t : 0;
    }

    private static double planeObjective(double t, double u, double p, double w, double q) {
        double r = Math.exp(t);
        return u * r * r - 2 * p * r + w / (r * r) - 2 * q / r;
    }

    private static DMatrixRMaj rows(DMatrixRMaj m, int r0, int r1) {
        return DenseMatrices.block(m, r0, r1, 0, m.numCols);
    }
}
