package dev.lmcmerge.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.AxisLayout;
import dev.lmcmerge.symmetry.HeadRole;
import dev.lmcmerge.symmetry.LinearAssignment;
import dev.lmcmerge.symmetry.ResidualSide;
import dev.lmcmerge.symmetry.Slot;
import dev.lmcmerge.symmetry.SlotGroup;
import dev.lmcmerge.symmetry.SlotKind;
import dev.lmcmerge.symmetry.Transform;
import dev.lmcmerge.symmetry.TransformSpec;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * Activation matching (from a data batch): both models run on the same tokens, and
 * <ul>
 *   <li>the residual rotation is the Procrustes solution between the residual streams (every
 *       block's input and the last block's output, each layer scaled to unit RMS), restricted to
 *       rotations fixing the all-ones direction for LayerNorm models;</li>
 *   <li>FFN units are matched by linear assignment on the Pearson correlation of their
 *       activations (the values multiplying the output projection's columns), and for gated MLPs
 *       the per-unit scale is the ratio of their RMS;</li>
 *   <li>attention heads are matched by their outputs: each head's contribution to the residual
 *       stream (B's rotated by the residual rotation), cost = mean squared difference, with the
 *       same group / within-group assignment as weight matching;</li>
 *   <li>head-internal maps, if requested, are then fitted on the weights as in weight matching.</li>
 * </ul>
 * Internal activations are read through the spec alone: a block is re-run with its output
 * projection (the tensor whose input axis the FFN permutation or the heads act on and whose
 * output axis writes the residual) replaced by 0/1 selector matrices, so the change of the block
 * output is the selected units' activations; when the heads are read the FFN output projection is
 * zeroed too, so sequential blocks' MLPs do not react.
 */
public final class ActivationMatching {
    private ActivationMatching() {
    }

    /**
     * @param transform    T_B
     * @param permutations hard indices per permutation slot (as in {@link WeightMatching.Result})
     */
    public record Result(Transform transform, Map<String, int[]> permutations) {
    }

    /**
     * @param batches token batches [B, T] (int64), all models see the same tokens
     */
    public static Result match(TransformSpec spec, Architecture arch, Weights canonicalA, Weights canonicalB,
                               List<NDArray> batches, Set<SlotGroup> groups, NDManager manager) {
        Set<SlotGroup> g = groups.isEmpty() ? EnumSet.noneOf(SlotGroup.class) : EnumSet.copyOf(groups);
        int layers = spec.dims().layers();
        WeightMatching.State state = new WeightMatching.State();
        Map<String, int[]> perms = new LinkedHashMap<>();
        try (NDManager work = manager.newSubManager()) {
            List<NDArray[]> hA = new ArrayList<>();
            List<NDArray[]> hB = new ArrayList<>();
            for (NDArray ids : batches) {
                hA.add(hiddenStates(arch, canonicalA, ids, work));
                hB.add(hiddenStates(arch, canonicalB, ids, work));
            }
            DMatrixRMaj rotation = null;
            if (g.contains(SlotGroup.RESIDUAL)) {
                rotation = residualRotation(spec, hA, hB, layers);
                WeightMatching.putResidual(spec, rotation, state, manager);
            }
            boolean withScale = g.contains(SlotGroup.SCALE) && spec.dims().gatedMlp();
            for (int l = 0; l < layers; l++) {
                if (g.contains(SlotGroup.FFN)) {
                    DMatrixRMaj ua = ffnActivations(spec, arch, canonicalA, hA, l, work);
                    DMatrixRMaj ub = ffnActivations(spec, arch, canonicalB, hB, l, work);
                    int[] perm = LinearAssignment.maximize(correlation(ua, ub));
                    WeightMatching.putFfn(spec, l, perm, withScale ? rmsRatios(ua, ub, perm) : null, state, perms, manager);
                }
                if (g.contains(SlotGroup.HEADS)) {
                    List<DMatrixRMaj> ca = headContributions(spec, arch, canonicalA, hA, l, null, work);
                    List<DMatrixRMaj> cb = headContributions(spec, arch, canonicalB, hB, l, rotation, work);
                    HeadMatcher.Result r = HeadMatcher.assign(spec.dims().kvHeads(), spec.dims().groupSize(),
                            (ha, ga, hb, gb) -> squaredDistance(ca.get(ha), cb.get(hb)));
                    WeightMatching.putHeads(spec, l, r, state, perms, manager);
                }
            }
        }
        if (g.contains(SlotGroup.QK) || g.contains(SlotGroup.VO)) {
            Map<String, NDArray> noMaps = new LinkedHashMap<>(state.current);
            WeightMatching.fitHeadMapsByLayer(spec, canonicalA, canonicalB, noMaps, WeightMatching.byLayer(spec, canonicalB),
                    g.contains(SlotGroup.QK), g.contains(SlotGroup.VO), state, manager, l -> { });
        }
        state.keep();
        return new Result(Transform.of(spec, g, state.kept, manager), perms);
    }

    /** Block inputs h_0 .. h_{L-1} and the last block's output h_L, each [B, T, d], in {@code m}. */
    static NDArray[] hiddenStates(Architecture arch, Weights w, NDArray ids, NDManager m) {
        int layers = arch.config().numLayers();
        NDArray[] h = new NDArray[layers + 1];
        try (NDManager s = m.newSubManager()) {
            ids.tempAttach(s);
            h[0] = arch.embed(w, ids);
            h[0].attach(m);
        }
        for (int l = 0; l < layers; l++) {
            try (NDManager s = m.newSubManager()) {
                h[l].tempAttach(s);
                h[l + 1] = arch.block(l, w, h[l]);
                h[l + 1].attach(m);
            }
        }
        return h;
    }

    /** Procrustes between the residual streams, each layer normalized to unit RMS so no layer dominates. */
    static DMatrixRMaj residualRotation(TransformSpec spec, List<NDArray[]> hA, List<NDArray[]> hB, int layers) {
        int d = spec.dims().hidden();
        DMatrixRMaj m = new DMatrixRMaj(d, d);
        for (int l = 0; l <= layers; l++) {
            List<DMatrixRMaj> as = new ArrayList<>();
            List<DMatrixRMaj> bs = new ArrayList<>();
            double na = 0;
            double nb = 0;
            for (int i = 0; i < hA.size(); i++) {
                DMatrixRMaj a = rows(hA.get(i)[l], d);
                DMatrixRMaj b = rows(hB.get(i)[l], d);
                na += CommonOps_DDRM.elementSum(CommonOps_DDRM.elementPower(a, 2, null));
                nb += CommonOps_DDRM.elementSum(CommonOps_DDRM.elementPower(b, 2, null));
                as.add(a);
                bs.add(b);
            }
            double scale = 1.0 / Math.max(Math.sqrt(na * nb), 1e-30);
            for (int i = 0; i < as.size(); i++) {
                CommonOps_DDRM.multAddTransA(scale, bs.get(i), as.get(i), m);
            }
        }
        return spec.layerNorm() ? Procrustes.rotationFixingOnes(m) : Procrustes.rotation(m);
    }

    private static DMatrixRMaj rows(NDArray h, int d) {
        try (NDArray flat = h.reshape(-1, d)) {
            return DenseMatrices.toDense(flat);
        }
    }

    /** The tensor of layer {@code l} whose input axis is acted on by {@code kind} and whose output axis writes the residual. */
    private static SpecAxes.Use outputProjection(TransformSpec spec, SlotKind kind, int l) {
        for (SpecAxes.Use u : SpecAxes.uses(spec, kind, l)) {
            if (!u.output() && u.other() != null && u.other().layout() instanceof AxisLayout.Residual r
                    && r.side() == ResidualSide.WRITE) {
                return u;
            }
        }
        throw new IllegalStateException("the " + spec.family() + " spec has no residual writer reading slot "
                + Slot.nameOf(kind, l));
    }

    /** Activations [N, units] of the units on {@code use}'s input axis, read by selector runs of block {@code l}. */
    private static DMatrixRMaj selectedActivations(Architecture arch, Weights w, List<NDArray[]> h, int l, SpecAxes.Use use,
                                                   List<String> zeroed, NDManager m) {
        NDArray original = w.get(use.tensor());
        Shape shape = original.getShape();
        if (shape.dimension() != 2) {
            throw new IllegalStateException("selector runs need a 2-D output projection, " + use.tensor() + " is " + shape);
        }
        int inAxis = use.axis().storageAxis();
        int units = (int) shape.get(inAxis);
        int d = (int) shape.get(1 - inAxis);
        int chunks = (units + d - 1) / d;
        List<DMatrixRMaj> perBatch = new ArrayList<>();
        int rows = 0;
        for (NDArray[] hs : h) {
            DMatrixRMaj acts = null;
            try (NDManager s = m.newSubManager()) {
                NDArray base = runWith(arch, w, l, hs[l], use.tensor(), s.zeros(shape), zeroed, s);
                for (int k = 0; k < chunks; k++) {
                    float[] sel = new float[units * d];
                    int width = Math.min(d, units - k * d);
                    for (int r = 0; r < width; r++) {
                        int unit = k * d + r;
                        int idx = inAxis == 1 ? r * units + unit : unit * d + r;
                        sel[idx] = 1f;
                    }
                    NDArray selector = s.create(sel, shape);
                    NDArray out = runWith(arch, w, l, hs[l], use.tensor(), selector, zeroed, s);
                    DMatrixRMaj diff = DenseMatrices.toDense(out.sub(base).reshape(-1, d));
                    if (acts == null) {
                        acts = new DMatrixRMaj(diff.numRows, units);
                    }
                    CommonOps_DDRM.extract(diff, 0, diff.numRows, 0, width, acts, 0, k * d);
                }
            }
            perBatch.add(acts);
            rows += acts.numRows;
        }
        DMatrixRMaj all = new DMatrixRMaj(rows, units);
        int r0 = 0;
        for (DMatrixRMaj a : perBatch) {
            CommonOps_DDRM.insert(a, all, r0, 0);
            r0 += a.numRows;
        }
        return all;
    }

    private static NDArray runWith(Architecture arch, Weights w, int l, NDArray h, String replaced, NDArray value,
                                   List<String> zeroed, NDManager s) {
        Weights view = new Weights(s, w.source() + " (selector)");
        for (String n : w.names()) {
            view.put(n, w.get(n));
        }
        view.put(replaced, value);
        for (String z : zeroed) {
            view.put(z, s.zeros(w.get(z).getShape()));
        }
        if (h.getManager() != s) {
            h.tempAttach(s); // once per scope: attaching twice would make the scope close h
        }
        return arch.block(l, view, h);
    }

    static DMatrixRMaj ffnActivations(TransformSpec spec, Architecture arch, Weights w, List<NDArray[]> h, int l,
                                      NDManager m) {
        return selectedActivations(arch, w, h, l, outputProjection(spec, SlotKind.FFN_PERMUTATION, l), List.of(), m);
    }

    /**
     * Each query head's contribution to the residual stream, [N, d] per head: its pre-projection
     * output z_h (selector runs on the attention output projection, FFN output zeroed) times its
     * block of output-projection columns; B's contributions are rotated into A's frame.
     */
    static List<DMatrixRMaj> headContributions(TransformSpec spec, Architecture arch, Weights w, List<NDArray[]> h, int l,
                                               DMatrixRMaj rotation, NDManager m) {
        SpecAxes.Use o = outputProjection(spec, SlotKind.HEAD_GROUPS, l);
        List<String> zeroed = List.of(outputProjection(spec, SlotKind.FFN_PERMUTATION, l).tensor());
        DMatrixRMaj z = selectedActivations(arch, w, h, l, o, zeroed, m);
        HeadBlocks blocks = HeadBlocks.of(spec, w, l);
        int hd = spec.dims().headDim();
        List<DMatrixRMaj> out = new ArrayList<>();
        for (int head = 0; head < spec.dims().heads(); head++) {
            DMatrixRMaj zh = DenseMatrices.block(z, 0, z.numRows, head * hd, (head + 1) * hd);
            DMatrixRMaj ob = blocks.block(HeadRole.O, head); // [hd, d]: W_O columns of the head, as rows
            DMatrixRMaj c = new DMatrixRMaj(zh.numRows, ob.numCols);
            CommonOps_DDRM.mult(zh, ob, c);
            if (rotation != null) {
                DMatrixRMaj rc = new DMatrixRMaj(c.numRows, c.numCols);
                CommonOps_DDRM.mult(c, rotation, rc);
                c = rc;
            }
            out.add(c);
        }
        return out;
    }

    /** Pearson correlation [units_A, units_B] of the columns of two activation matrices. */
    static double[][] correlation(DMatrixRMaj a, DMatrixRMaj b) {
        DMatrixRMaj za = standardized(a);
        DMatrixRMaj zb = standardized(b);
        DMatrixRMaj c = new DMatrixRMaj(za.numCols, zb.numCols);
        CommonOps_DDRM.multTransA(za, zb, c);
        double[][] out = new double[c.numRows][c.numCols];
        for (int i = 0; i < c.numRows; i++) {
            for (int j = 0; j < c.numCols; j++) {
                out[i][j] = c.get(i, j) / a.numRows;
            }
        }
        return out;
    }

    private static DMatrixRMaj standardized(DMatrixRMaj x) {
        DMatrixRMaj z = x.copy();
        for (int j = 0; j < x.numCols; j++) {
            double mean = 0;
            for (int i = 0; i < x.numRows; i++) {
                mean += x.get(i, j);
            }
            mean /= x.numRows;
            double var = 0;
            for (int i = 0; i < x.numRows; i++) {
                double v = x.get(i, j) - mean;
                var += v * v;
            }
            double sd = Math.sqrt(var / x.numRows);
            for (int i = 0; i < x.numRows; i++) {
                z.set(i, j, sd > 0 ? (x.get(i, j) - mean) / sd : 0);
            }
        }
        return z;
    }

    /** s_i = rms(a_i) / rms(b_perm(i)): the gated-MLP scale making matched units equally strong. */
    static double[] rmsRatios(DMatrixRMaj a, DMatrixRMaj b, int[] perm) {
        double[] s = new double[perm.length];
        for (int i = 0; i < perm.length; i++) {
            double ra = 0;
            double rb = 0;
            for (int r = 0; r < a.numRows; r++) {
                ra += a.get(r, i) * a.get(r, i);
                rb += b.get(r, perm[i]) * b.get(r, perm[i]);
            }
            s[i] = ra > 0 && rb > 0 ? Math.sqrt(ra / rb) : 1.0;
        }
        return s;
    }

    private static double squaredDistance(DMatrixRMaj x, DMatrixRMaj y) {
        double s = 0;
        for (int i = 0; i < x.data.length && i < x.getNumElements(); i++) {
            double d = x.data[i] - y.data[i];
            s += d * d;
        }
        return s / x.numRows;
    }
}
