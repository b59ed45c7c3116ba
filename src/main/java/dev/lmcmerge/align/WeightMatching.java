package dev.lmcmerge.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.AxisRule;
import dev.lmcmerge.symmetry.OrthogonalParameterization;
import dev.lmcmerge.symmetry.Permutation;
import dev.lmcmerge.symmetry.PolarInvertible;
import dev.lmcmerge.symmetry.RopeCommutingMap;
import dev.lmcmerge.symmetry.Slot;
import dev.lmcmerge.symmetry.SlotGroup;
import dev.lmcmerge.symmetry.SlotKind;
import dev.lmcmerge.symmetry.SlotRef;
import dev.lmcmerge.symmetry.TensorRule;
import dev.lmcmerge.symmetry.Transform;
import dev.lmcmerge.symmetry.TransformEngine;
import dev.lmcmerge.symmetry.TransformSpec;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * Weight matching (no data): the symmetry element T_B that brings model B's canonical weights
 * closest to model A's, found by alternating closed-form steps driven only by the spec table
 * (SYMMETRIES.md section 3):
 * <ol>
 *   <li>residual rotation by Procrustes on the stacked residual rows of every reader and writer
 *       (first round: only tensors with no other transformed axis, since heads and units are not
 *       matched yet), restricted to rotations fixing the all-ones direction for LayerNorm models;</li>
 *   <li>per layer, head permutations by circuit distances (RoPE-aware QK per frequency plane, OV;
 *       GQA: groups, then heads within groups) and FFN unit permutations (with gated-MLP scales);</li>
 *   <li>per layer and KV group, head-internal QK and VO maps by least squares ({@link HeadMapFit}).</li>
 * </ol>
 * Rounds repeat (at most {@code maxIterations}) while the distance ||T_B(W_B) - W_A||^2 drops.
 * Only slots of the requested groups are set; the residual scale stays at identity.
 */
public final class WeightMatching {
    private WeightMatching() {
    }

    /**
     * @param transform  T_B (parameters in {@code manager})
     * @param permutations hard indices per permutation slot copy, e.g. {@code heads.0}, {@code heads_in_group.0/2}, {@code ffn.1}
     * @param distanceBefore ||W_B - W_A||^2 over every transformed tensor
     * @param distanceAfter  ||T_B(W_B) - W_A||^2
     * @param rounds     alternating rounds run
     */
    public record Result(Transform transform, Map<String, int[]> permutations, double distanceBefore,
                         double distanceAfter, int rounds) {
    }

    /**
     * Matches canonical B to canonical A.
     *
     * @param spec          the bound spec of both models (same architecture)
     * @param canonicalA    A in canonical form
     * @param canonicalB    B in canonical form
     * @param groups        slot groups to match (others stay identity)
     * @param maxIterations bound on alternating rounds (>= 1)
     * @param manager       where the result's parameter arrays live
     */
    public static Result match(TransformSpec spec, Weights canonicalA, Weights canonicalB, Set<SlotGroup> groups,
                               int maxIterations, NDManager manager) {
        return match(spec, canonicalA, canonicalB, groups, maxIterations, manager, msg -> { });
    }

    /**
     * As {@link #match(TransformSpec, Weights, Weights, Set, int, NDManager)}, reporting progress
     * (round, layer, elapsed time, distance) to {@code progress} at most every few seconds: on a
     * billion-parameter model one round takes minutes.
     */
    public static Result match(TransformSpec spec, Weights canonicalA, Weights canonicalB, Set<SlotGroup> groups,
                               int maxIterations, NDManager manager, java.util.function.Consumer<String> progress) {
        RoundProgress report = new RoundProgress(progress, maxIterations, spec.dims().layers());
        Set<SlotGroup> g = groups.isEmpty() ? EnumSet.noneOf(SlotGroup.class) : EnumSet.copyOf(groups);
        int rotary = spec.dims().rotaryDim();
        int layers = spec.dims().layers();
        boolean residual = g.contains(SlotGroup.RESIDUAL);
        boolean heads = g.contains(SlotGroup.HEADS);
        boolean qk = g.contains(SlotGroup.QK);
        boolean vo = g.contains(SlotGroup.VO);
        boolean ffn = g.contains(SlotGroup.FFN);
        boolean ffnScale = g.contains(SlotGroup.SCALE) && spec.dims().gatedMlp();

        double before = distance(spec, canonicalA, canonicalB);
        State state = new State();
        Map<String, NDArray> params = state.current;
        Map<String, int[]> perms = new LinkedHashMap<>();
        Map<String, int[]> bestPerms = new LinkedHashMap<>(perms);
        double best = before;
        int rounds = 0;
        // B's tensors by layer, for transforming one layer at a time (see the head maps below).
        Map<Integer, List<String>> layerTensors = byLayer(spec, canonicalB);
        for (int it = 0; it < maxIterations; it++) {
            rounds++;
            if (residual) {
                Map<String, NDArray> others = new LinkedHashMap<>(params);
                others.remove(residualSlot());
                boolean all = it > 0 || !(heads || ffn);
                DMatrixRMaj m = new DMatrixRMaj(spec.dims().hidden(), spec.dims().hidden());
                forEachLayer(spec, others, canonicalB, layerTensors, manager,
                        bx -> CommonOps_DDRM.addEquals(m, residualCrossProducts(spec, canonicalA, bx, all)));
                putResidual(spec, procrustes(spec, m), state, manager);
            }
            if (heads || ffn) {
                Map<String, NDArray> rotOnly = new LinkedHashMap<>();
                if (params.containsKey(residualSlot())) {
                    rotOnly.put(residualSlot(), params.get(residualSlot()));
                }
                for (int l = 0; l < layers; l++) {
                    // B rotated one layer at a time (see the head maps below).
                    try (Weights br = transformed(spec, rotOnly, canonicalB, layerTensors.getOrDefault(l, List.of()),
                            manager)) {
                        if (heads) {
                            matchHeads(spec, canonicalA, br, l, rotary, state, perms, manager);
                        }
                        if (ffn) {
                            matchFfn(spec, canonicalA, br, l, ffnScale, state, perms, manager);
                        }
                    }
                    report.layer(it, l, "heads and FFN units");
                }
            }
            if (qk || vo) {
                Map<String, NDArray> noMaps = new LinkedHashMap<>(params);
                for (int l = 0; l < layers; l++) {
                    noMaps.remove(Slot.nameOf(SlotKind.QK, l));
                    noMaps.remove(Slot.nameOf(SlotKind.VO, l));
                }
                int round = it;
                fitHeadMapsByLayer(spec, canonicalA, canonicalB, noMaps, layerTensors, qk, vo, state, manager,
                        l -> report.layer(round, l, "head maps"));
            }
            double[] sum = {0};
            forEachLayer(spec, params, canonicalB, layerTensors, manager, bt -> sum[0] += distance(spec, canonicalA, bt));
            double d = sum[0];
            report.round(it, d);
            if (!(d < best * (1 - 1e-9))) {
                break; // no gain: keep the best round
            }
            best = d;
            state.keep();
            bestPerms = new LinkedHashMap<>(perms);
        }
        state.dropUnkept();
        Transform t = Transform.of(spec, g, state.kept, manager);
        return new Result(t, bestPerms, before, best, rounds);
    }

    /**
     * The parameter arrays of the current round and of the best round so far. Replacing a slot's
     * array closes the old one unless the best round holds it (dense permutation latents are n^2).
     */
    static final class State {
        final Map<String, NDArray> current = new LinkedHashMap<>();
        Map<String, NDArray> kept = new LinkedHashMap<>();

        void put(String slot, NDArray value) {
            NDArray old = current.put(slot, value);
            if (old != null && !holds(kept, old)) {
                old.close();
            }
        }

        private static boolean holds(Map<String, NDArray> m, NDArray a) {
            for (NDArray x : m.values()) {
                if (x == a) {
                    return true;
                }
            }
            return false;
        }

        void keep() {
            for (NDArray old : kept.values()) {
                if (!holds(current, old)) {
                    old.close();
                }
            }
            kept = new LinkedHashMap<>(current);
        }

        void dropUnkept() {
            for (NDArray a : current.values()) {
                if (!holds(kept, a)) {
                    a.close();
                }
            }
        }
    }

    /**
     * Fits every layer's head maps against B under {@code noMaps}, with one layer's tensors of B
     * transformed at a time, not a whole copy of B beside the two cached models (at the Pythia-1B
     * shape a whole copy is 4 GB: the highest point of the merge).
     *
     * @param layerTensors B's tensors by layer ({@link #byLayer})
     * @param afterLayer   called with each layer when its maps are fitted (progress)
     */
    static void fitHeadMapsByLayer(TransformSpec spec, Weights a, Weights b, Map<String, NDArray> noMaps,
                                   Map<Integer, List<String>> layerTensors, boolean qk, boolean vo, State state,
                                   NDManager manager, java.util.function.IntConsumer afterLayer) {
        for (int l = 0; l < spec.dims().layers(); l++) {
            try (Weights bp = transformed(spec, noMaps, b, layerTensors.getOrDefault(l, List.of()), manager)) {
                fitHeadMaps(spec, a, bp, l, spec.dims().rotaryDim(), qk, vo, state, manager);
            }
            afterLayer.accept(l);
        }
    }

    /**
     * Hands {@code use} B's tensors under {@code params}, one layer group of {@link #byLayer} at a
     * time (each group freed after use), so sums over them never need a whole transformed copy.
     */
    private static void forEachLayer(TransformSpec spec, Map<String, NDArray> params, Weights b,
                                     Map<Integer, List<String>> layerTensors, NDManager manager,
                                     java.util.function.Consumer<Weights> use) {
        for (List<String> group : layerTensors.values()) {
            try (Weights bt = transformed(spec, params, b, group, manager)) {
                use.accept(bt);
            }
        }
    }

    static String residualSlot() {
        return Slot.nameOf(SlotKind.RESIDUAL_ROTATION, -1);
    }

    /**
     * The tensor names of {@code w} by the layer of the layer slots acting on them (-1: only global
     * slots or none), so a layer's tensors can be transformed together and dropped.
     */
    static Map<Integer, List<String>> byLayer(TransformSpec spec, Weights w) {
        Map<Integer, List<String>> out = new TreeMap<>();
        for (String n : w.names()) {
            int layer = -1;
            TensorRule r = spec.rule(n);
            if (r != null) {
                for (AxisRule ax : new AxisRule[] {r.out(), r.in()}) {
                    if (ax != null) {
                        for (SlotRef ref : ax.slots()) {
                            layer = Math.max(layer, ref.layer());
                        }
                    }
                }
            }
            out.computeIfAbsent(layer, k -> new ArrayList<>()).add(n);
        }
        return out;
    }

    /**
     * {@code w} under the slots in {@code params} (identity elsewhere), for the tensors {@code names}
     * only; identity fillers live in a scratch manager.
     */
    static Weights transformed(TransformSpec spec, Map<String, NDArray> params, Weights w, List<String> names,
                               NDManager manager) {
        Set<SlotGroup> present = EnumSet.noneOf(SlotGroup.class);
        for (String slot : params.keySet()) {
            present.add(spec.slot(slot).kind().group());
        }
        try (NDManager scratch = manager.newSubManager()) {
            return TransformEngine.apply(spec, Transform.of(spec, present, params, scratch), w, names);
        }
    }

    /**
     * Procrustes on residual rows: X_B O ~ X_A with X the residual vectors of each tensor as rows,
     * each tensor weighted by 1/(its number of rows) so large tables do not drown small ones.
     */
    static DMatrixRMaj residualRotation(TransformSpec spec, Weights a, Weights b, boolean allTensors) {
        return procrustes(spec, residualCrossProducts(spec, a, b, allTensors));
    }

    /** The rotation maximizing tr(O^T m), fixing the all-ones direction under LayerNorm. */
    private static DMatrixRMaj procrustes(TransformSpec spec, DMatrixRMaj m) {
        return spec.layerNorm() ? Procrustes.rotationFixingOnes(m) : Procrustes.rotation(m);
    }

    /**
     * m = sum_i (1 / k_i) rows(B_i) rows(A_i)^T over the residual uses whose tensor both {@code a}
     * and {@code b} hold (so partial sums over groups of B's tensors add up to the whole).
     */
    static DMatrixRMaj residualCrossProducts(TransformSpec spec, Weights a, Weights b, boolean allTensors) {
        int d = spec.dims().hidden();
        List<NDArray> xs = new ArrayList<>();
        List<NDArray> ys = new ArrayList<>();
        List<Integer> axes = new ArrayList<>();
        List<Double> w = new ArrayList<>();
        for (SpecAxes.Use use : SpecAxes.residualUses(spec, !allTensors)) {
            if (!a.has(use.tensor()) || !b.has(use.tensor())) {
                continue;
            }
            NDArray ta = a.get(use.tensor());
            int axis = use.axis().storageAxis();
            xs.add(b.get(use.tensor()));
            ys.add(ta);
            axes.add(axis);
            w.add(1.0 / (ta.getShape().size() / ta.getShape().get(axis))); // 1 / columns of the rows view
        }
        return DenseMatrices.crossProducts(xs, ys, axes, w.stream().mapToDouble(Double::doubleValue).toArray(), d);
    }

    private static void matchHeads(TransformSpec spec, Weights a, Weights b, int l, int rotary,
                                   State state, Map<String, int[]> perms, NDManager manager) {
        HeadMatcher.Result r = HeadMatcher.match(HeadBlocks.of(spec, a, l), HeadBlocks.of(spec, b, l), rotary);
        putHeads(spec, l, r, state, perms, manager);
    }

    /** Stores a head matching of layer {@code l} as permutation latents (groups, and heads within groups under GQA). */
    static void putHeads(TransformSpec spec, int l, HeadMatcher.Result r, State state, Map<String, int[]> perms,
                         NDManager manager) {
        String groupsSlot = Slot.nameOf(SlotKind.HEAD_GROUPS, l);
        Permutation gp = (Permutation) spec.slot(groupsSlot).parameterization();
        // Index form (Slot#indexShape): a matched permutation is n numbers, not an n x n latent.
        state.put(groupsSlot, gp.indexParamsOf(r.groups(), manager).expandDims(0));
        perms.put(groupsSlot, r.groups());
        String inGroupSlot = Slot.nameOf(SlotKind.HEADS_IN_GROUP, l);
        if (spec.slots().containsKey(inGroupSlot)) {
            Permutation ip = (Permutation) spec.slot(inGroupSlot).parameterization();
            List<NDArray> copies = new ArrayList<>();
            for (int c = 0; c < r.withinGroup().length; c++) {
                copies.add(ip.indexParamsOf(r.withinGroup()[c], manager));
                perms.put(inGroupSlot + "/" + c, r.withinGroup()[c]);
            }
            state.put(inGroupSlot, ai.djl.ndarray.NDArrays.stack(new ai.djl.ndarray.NDList(copies)));
            for (NDArray c : copies) {
                c.close();
            }
        }
    }

    private static void matchFfn(TransformSpec spec, Weights a, Weights b, int l, boolean withScale,
                                 State state, Map<String, int[]> perms, NDManager manager) {
        FfnMatcher.Result r = FfnMatcher.match(FfnMatcher.features(spec, a, l, withScale),
                FfnMatcher.features(spec, b, l, withScale));
        putFfn(spec, l, r.perm(), withScale ? r.scales() : null, state, perms, manager);
    }

    /** Stores an FFN unit permutation of layer {@code l} (and, if given, the gated-MLP scales as log-scales). */
    static void putFfn(TransformSpec spec, int l, int[] perm, double[] scales, State state, Map<String, int[]> perms,
                       NDManager manager) {
        String slot = Slot.nameOf(SlotKind.FFN_PERMUTATION, l);
        Permutation p = (Permutation) spec.slot(slot).parameterization();
        state.put(slot, p.indexParamsOf(perm, manager).expandDims(0));
        perms.put(slot, perm);
        if (scales != null) {
            double[] logs = new double[scales.length];
            for (int i = 0; i < logs.length; i++) {
                logs[i] = Math.log(scales[i]);
            }
            state.put(Slot.nameOf(SlotKind.FFN_SCALE, l), ElementParams.array(manager, logs, new Shape(1, logs.length)));
        }
    }

    /** Stores a residual rotation. */
    static void putResidual(TransformSpec spec, DMatrixRMaj o, State state, NDManager manager) {
        OrthogonalParameterization p = (OrthogonalParameterization) spec.slot(residualSlot()).parameterization();
        state.put(residualSlot(), ElementParams.rotation(p, o, manager).expandDims(0));
    }

    static void fitHeadMaps(TransformSpec spec, Weights a, Weights b, int l, int rotary, boolean qk, boolean vo,
                                    State state, NDManager manager) {
        HeadBlocks ha = HeadBlocks.of(spec, a, l);
        HeadBlocks hb = HeadBlocks.of(spec, b, l);
        int kv = spec.dims().kvHeads();
        if (qk) {
            Slot slot = spec.slot(Slot.nameOf(SlotKind.QK, l));
            requireKind(slot, RopeCommutingMap.class);
            double[] all = new double[(int) slot.paramShape().size()];
            int per = all.length / kv;
            for (int g = 0; g < kv; g++) {
                HeadMapFit.Qk fit = HeadMapFit.qk(ha, hb, g, rotary);
                System.arraycopy(ElementParams.ropeMap(fit.planes(), fit.free()), 0, all, g * per, per);
            }
            state.put(slot.name(), ElementParams.array(manager, all, slot.paramShape()));
        }
        if (vo) {
            Slot slot = spec.slot(Slot.nameOf(SlotKind.VO, l));
            requireKind(slot, PolarInvertible.class);
            double[] all = new double[(int) slot.paramShape().size()];
            int per = all.length / kv;
            for (int g = 0; g < kv; g++) {
                System.arraycopy(ElementParams.polar(HeadMapFit.vo(ha, hb, g)), 0, all, g * per, per);
            }
            state.put(slot.name(), ElementParams.array(manager, all, slot.paramShape()));
        }
    }

    private static void requireKind(Slot slot, Class<?> expected) {
        if (!expected.isInstance(slot.parameterization())) {
            throw new IllegalArgumentException("weight matching writes " + expected.getSimpleName() + " parameters for slot "
                    + slot.name() + " but the spec uses " + slot.parameterization().getClass().getSimpleName());
        }
    }

    /** sum over every tensor with a rule of ||a - b||^2. */
    public static double distance(TransformSpec spec, Weights a, Weights b) {
        double s = 0;
        for (String name : spec.rules().keySet()) {
            if (!a.has(name) || !b.has(name)) {
                continue;
            }
            try (NDManager scratch = a.manager().newSubManager()) {
                NDArray x = a.get(name);
                NDArray y = b.get(name);
                x.tempAttach(scratch);
                if (y != x && y.getManager() != scratch) {
                    y.tempAttach(scratch);
                }
                s += x.sub(y).square().sum().toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble();
            }
        }
        return s;
    }

    /** Rate-limited progress lines of {@link #match}: round, layer, elapsed time, distance. */
    private static final class RoundProgress {
        private static final long EVERY_NANOS = 5_000_000_000L;
        private final java.util.function.Consumer<String> out;
        private final int maxRounds;
        private final int layers;
        private final long start = System.nanoTime();
        private long last = start;

        RoundProgress(java.util.function.Consumer<String> out, int maxRounds, int layers) {
            this.out = out;
            this.maxRounds = maxRounds;
            this.layers = layers;
        }

        void layer(int round, int layer, String what) {
            long now = System.nanoTime();
            if (now - last >= EVERY_NANOS) {
                last = now;
                out.accept(String.format(java.util.Locale.ROOT, "weight matching: round %d/%d (at most), %s of layer %d/%d,"
                        + " %.0f s elapsed", round + 1, maxRounds, what, layer + 1, layers, (now - start) / 1e9));
            }
        }

        void round(int round, double distance) {
            long now = System.nanoTime();
            last = now;
            out.accept(String.format(java.util.Locale.ROOT, "weight matching: round %d/%d (at most) done, ||T(B) - A||^2 %.4g,"
                    + " %.1f s per round", round + 1, maxRounds, distance, (now - start) / 1e9 / (round + 1)));
        }
    }
}
