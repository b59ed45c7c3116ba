package dev.lmcmerge.align;

import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.LinearAssignment;
import dev.lmcmerge.symmetry.SlotKind;
import dev.lmcmerge.symmetry.TransformSpec;
import java.util.ArrayList;
import java.util.List;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * FFN unit matching of one layer by linear assignment on per-unit feature vectors read from the
 * spec: every tensor axis the layer's FFN permutation acts on contributes the unit's row (input
 * weights, bias, output-weight column). Without per-unit scales (GELU MLPs, or the scale group
 * off) the whole vector is L2-normalized; for gated MLPs with scales the vector is
 * [unscaled parts (gate), scaled-output parts / their norm (up row and bias), scaled-input parts /
 * their norm (down column)], and the scale s_i = |up_A,i| / |up_B,perm(i)| makes the matched
 * up rows equally long. Cost: squared Euclidean distance.
 */
final class FfnMatcher {
    private FfnMatcher() {
    }

    /** Per-unit rows of one layer: unscaled, scaled on an output axis (x s), scaled on an input axis (x 1/s). */
    record Features(DMatrixRMaj unscaled, DMatrixRMaj scaledOut, DMatrixRMaj scaledIn) {
        int units() {
            return unscaled != null ? unscaled.numRows : scaledOut != null ? scaledOut.numRows : scaledIn.numRows;
        }
    }

    record Result(int[] perm, double[] scales, double cost) {
    }

    static Features features(TransformSpec spec, Weights w, int layer, boolean withScale) {
        List<DMatrixRMaj> plain = new ArrayList<>();
        List<DMatrixRMaj> out = new ArrayList<>();
        List<DMatrixRMaj> in = new ArrayList<>();
        for (SpecAxes.Use use : SpecAxes.uses(spec, SlotKind.FFN_PERMUTATION, layer)) {
            DMatrixRMaj rows = DenseMatrices.axisRows(w.get(use.tensor()), use.axis().storageAxis());
            if (withScale && use.has(SlotKind.FFN_SCALE)) {
                (use.output() ? out : in).add(rows);
            } else {
                plain.add(rows);
            }
        }
        return new Features(join(plain), join(out), join(in));
    }

    private static DMatrixRMaj join(List<DMatrixRMaj> parts) {
        return parts.isEmpty() ? null : HeadBlocks.concatColumns(parts);
    }

    static Result match(Features a, Features b) {
        DMatrixRMaj fa = vectors(a);
        DMatrixRMaj fb = vectors(b);
        int n = fa.numRows;
        double[][] cost = DenseMatrices.squaredDistances(fa, fb);
        int[] perm = LinearAssignment.minimize(cost);
        double[] scales = null;
        if (a.scaledOut() != null) {
            double[] sa = rowNorms2(a.scaledOut());
            double[] sb = rowNorms2(b.scaledOut());
            scales = new double[n];
            for (int i = 0; i < n; i++) {
                double den = Math.sqrt(sb[perm[i]]);
                scales[i] = den > 0 && sa[i] > 0 ? Math.sqrt(sa[i]) / den : 1.0;
            }
        }
        return new Result(perm, scales, LinearAssignment.total(cost, perm));
    }

    /** The matching vectors: scaled parts normalized each on their own, or everything normalized together. */
    static DMatrixRMaj vectors(Features f) {
        if (f.scaledOut() == null && f.scaledIn() == null) {
            return normalizedRows(f.unscaled());
        }
        List<DMatrixRMaj> parts = new ArrayList<>();
        if (f.unscaled() != null) {
            parts.add(f.unscaled());
        }
        if (f.scaledOut() != null) {
            parts.add(normalizedRows(f.scaledOut()));
        }
        if (f.scaledIn() != null) {
            parts.add(normalizedRows(f.scaledIn()));
        }
        return HeadBlocks.concatColumns(parts);
    }

    static DMatrixRMaj normalizedRows(DMatrixRMaj m) {
        DMatrixRMaj out = m.copy();
        double[] n2 = rowNorms2(m);
        for (int i = 0; i < m.numRows; i++) {
            double n = Math.sqrt(n2[i]);
            if (n > 0) {
                for (int j = 0; j < m.numCols; j++) {
                    out.set(i, j, m.get(i, j) / n);
                }
            }
        }
        return out;
    }

    static double[] rowNorms2(DMatrixRMaj m) {
        double[] r = new double[m.numRows];
        for (int i = 0; i < m.numRows; i++) {
            double s = 0;
            for (int j = 0; j < m.numCols; j++) {
                double x = m.get(i, j);
                s += x * x;
            }
            r[i] = s;
        }
        return r;
    }
}
