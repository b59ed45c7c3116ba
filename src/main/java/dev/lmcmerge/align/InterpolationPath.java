package dev.lmcmerge.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Losses;
import dev.lmcmerge.model.NativeAllocator;
import dev.lmcmerge.model.Nn;
import dev.lmcmerge.model.TensorSpec;
import dev.lmcmerge.model.TokenRows;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.AxisRule;
import dev.lmcmerge.symmetry.Interpolation;
import dev.lmcmerge.symmetry.Slot;
import dev.lmcmerge.symmetry.SlotGroup;
import dev.lmcmerge.symmetry.SlotRef;
import dev.lmcmerge.symmetry.TensorRule;
import dev.lmcmerge.symmetry.Transform;
import dev.lmcmerge.symmetry.TransformEngine;
import dev.lmcmerge.symmetry.TransformSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The linear path between two transformed models,
 * W(alpha) = (1 - alpha) T_A(W_A) + alpha T_B(W_B), with the transforms' parameters held here
 * as plain arrays (updated in place by the optimizer), and the loss and its gradient with respect
 * to the learned parameters of both sides.
 *
 * <p><b>Layer-block gradient streaming</b> ({@link #streamingGradients}): the forward pass runs
 * embedding and blocks without a graph, keeping only each block's input. The backward pass starts
 * at the head (loss with a graph on the last hidden state and the head's parameters), then for
 * block L-1 .. 0 recomputes that one block with a graph on (its input, the block's slot
 * parameters, the global residual parameters), injects the upstream gradient g as the backward
 * of sum(output * g), reads off the input's gradient for the block before, and finally does the
 * same for the embedding (its token table made for just the batch's distinct tokens,
 * {@link TokenRows}). Because the interpolated weights depend on the parameters, each part's
 * weights are materialized from (canonical A part, canonical B part, parameters) inside that
 * part's graph. Per-block parameters get their gradient from one block; the global residual
 * parameters sum theirs over every part. Peak memory: the weights, the L+1 block inputs and one
 * block's graph. {@link #wholeGraphGradients} is the plain one-graph reference (tests, tiny models).
 *
 * <p><b>One graph when it fits</b> ({@link #graphGradients}, chosen by {@link #gradients} against
 * {@code lmc.compute.step-graph-memory}): the same result from one graph over the whole model,
 * each side's transforms applied once instead of twice. Both variants take the head's logits from
 * rotated activations with the canonical unembeddings ({@code headLogits}) and make each side's
 * weights pre-scaled by its interpolation weight, so interpolating is one addition per tensor.
 *
 * <p>Gradient recording holds {@link GradientLock} (one DJL collector per JVM).
 */
public final class InterpolationPath implements AutoCloseable {

    /** One endpoint: canonical weights, its transform parameters (every slot of the groups) and the slots it learns. */
    public static final class Side {
        final Weights canonical;
        final Map<String, NDArray> params;
        final Set<String> learned;

        Side(Weights canonical, Map<String, NDArray> params, Set<String> learned) {
            this.canonical = canonical;
            this.params = params;
            this.learned = learned;
        }

        /** The current parameters (live arrays: do not close). */
        public Map<String, NDArray> params() {
            return Collections.unmodifiableMap(params);
        }

        public Set<String> learned() {
            return Collections.unmodifiableSet(learned);
        }
    }

    /** Gradients of the mean loss with respect to each side's learned parameters; arrays live in {@link #manager}. */
    public record Gradients(double loss, Map<String, NDArray> a, Map<String, NDArray> b, NDManager manager)
            implements AutoCloseable {
        @Override
        public void close() {
            manager.close();
        }
    }

    private final TransformSpec spec;
    private final EpsScaledArchitectures archs;
    private final Set<SlotGroup> groups;
    private final NDManager manager;
    private final Side a;
    private final Side b;
    private final List<String> embedTensors = new ArrayList<>();
    private final List<String> headTensors = new ArrayList<>();
    private final List<List<String>> blockTensors = new ArrayList<>();
    /** Whether the head's logits can be had from rotated activations (see {@link #headLogits}). */
    private final boolean headByActivations;
    /** See {@link #graphBytesEstimate}; fixed by the canonical weights' shapes. */
    private final long graphBytes;

    /**
     * @param spec       the bound spec of both models
     * @param arch       their architecture
     * @param canonicalA A in canonical form (kept open by the caller)
     * @param canonicalB B in canonical form (kept open by the caller)
     * @param initA      A's starting transform (its groups are the path's groups)
     * @param initB      B's starting transform (same groups)
     * @param learnedA   slots A learns (may be empty)
     * @param learnedB   slots B learns
     */
    public InterpolationPath(TransformSpec spec, Architecture arch, Weights canonicalA, Weights canonicalB,
                             Transform initA, Transform initB, Set<String> learnedA, Set<String> learnedB) {
        this.spec = spec;
        this.archs = new EpsScaledArchitectures(arch);
        this.groups = initA.groups().isEmpty() ? EnumSet.noneOf(SlotGroup.class) : EnumSet.copyOf(initA.groups());
        if (!initA.groups().equals(initB.groups())) {
            throw new IllegalArgumentException("both sides must use the same slot groups: " + initA.groups()
                    + " vs " + initB.groups());
        }
        this.manager = canonicalA.manager().newSubManager();
        this.a = new Side(canonicalA, copy(initA), checkLearned(learnedA, initA));
        this.b = new Side(canonicalB, copy(initB), checkLearned(learnedB, initB));
        for (int l = 0; l < arch.config().numLayers(); l++) {
            blockTensors.add(new ArrayList<>());
        }
        for (TensorSpec t : arch.tensors()) {
            if (!canonicalA.has(t.name())) {
                continue;
            }
            if (t.layer() >= 0) {
                blockTensors.get(t.layer()).add(t.name());
            } else if (t.role() == TensorSpec.Role.WRITER) {
                embedTensors.add(t.name());
            } else {
                headTensors.add(t.name());
            }
        }
        this.headByActivations = headByActivations(spec, arch, initB, headTensors);
        long floats = 0;
        for (String n : canonicalA.names()) {
            if (!n.equals(arch.tokenEmbedding())) {
                floats += canonicalA.get(n).getShape().size();
            }
        }
        this.graphBytes = GRAPH_COPIES * 4 * floats;
    }

    /**
     * True if the head is a final norm then the unembedding (see {@link Architecture#unembedding})
     * and only the residual rotation acts on the unembedding ({@link TransformEngine#onlyRotatesInput}).
     */
    private static boolean headByActivations(TransformSpec spec, Architecture arch, Transform t, List<String> head) {
        String u = arch.unembedding();
        return u != null && head.contains(u) && TransformEngine.onlyRotatesInput(spec, t, u);
    }

    private Map<String, NDArray> copy(Transform t) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : t.parameters().entrySet()) {
            NDArray c = e.getValue().duplicate();
            c.attach(manager);
            out.put(e.getKey(), c);
        }
        return out;
    }

    private static Set<String> checkLearned(Set<String> learned, Transform t) {
        for (String s : learned) {
            if (!t.parameters().containsKey(s)) {
                throw new IllegalArgumentException("slot " + s + " is not active in the transform (groups " + t.groups() + ")");
            }
        }
        return new LinkedHashSet<>(learned);
    }

    public TransformSpec spec() {
        return spec;
    }

    public Side a() {
        return a;
    }

    public Side b() {
        return b;
    }

    public Architecture architecture() {
        return archs.base();
    }

    /** The current transform of A (parameters copied into {@code m}). */
    public Transform transformA(NDManager m) {
        return snapshot(a, m);
    }

    /** The current transform of B (parameters copied into {@code m}). */
    public Transform transformB(NDManager m) {
        return snapshot(b, m);
    }

    private Transform snapshot(Side s, NDManager m) {
        Map<String, NDArray> p = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : s.params.entrySet()) {
            NDArray c = e.getValue().duplicate();
            c.attach(m);
            p.put(e.getKey(), c);
        }
        return Transform.of(spec, groups, p, m);
    }

    /** A's canonical weights under its current transform (no graph); the result's manager is a child of A's canonical one. */
    public Weights transformedA() {
        return transformed(a);
    }

    /** B's canonical weights under its current transform (no graph). */
    public Weights transformedB() {
        return transformed(b);
    }

    private Weights transformed(Side s) {
        try (NDManager scratch = manager.newSubManager()) {
            return TransformEngine.apply(spec, Transform.of(spec, groups, s.params, scratch), s.canonical);
        }
    }

    /** The norm-eps factor of A's current transform (c_A^2, 1 without residual scale). */
    public double epsScaleA() {
        return epsScale(a);
    }

    /** The norm-eps factor of B's current transform. */
    public double epsScaleB() {
        return epsScale(b);
    }

    private double epsScale(Side s) {
        NDArray c = s.params.get(Slot.nameOf(dev.lmcmerge.symmetry.SlotKind.RESIDUAL_SCALE, -1));
        if (c == null) {
            return 1.0;
        }
        try (NDManager scratch = manager.newSubManager()) {
            c.tempAttach(scratch); // the element's intermediates die with the scratch scope
            return Transform.of(spec, groups, s.params, scratch).epsScale();
        }
    }

    /** The architecture for the path at alpha: norm eps scaled by the interpolated residual scale, if any. */
    Architecture architectureAt(double alpha) {
        double fa = epsScaleA();
        double fb = epsScaleB();
        return archs.forFactor(fa == 1 && fb == 1 ? 1 : Interpolation.epsScale(fa, fb, alpha));
    }

    /**
     * The interpolated weights of the whole model at alpha (no graph), in a new Weights whose
     * manager is a child of {@code parent}; close it when done.
     */
    public Weights weightsAt(double alpha, NDManager parent) {
        NDManager m = parent.newSubManager();
        Weights w = part(allTensors(), alpha, Map.of(), Map.of(), m);
        Weights out = new Weights(m, "path at alpha " + alpha);
        for (String n : w.names()) {
            out.put(n, w.get(n));
        }
        return out;
    }

    /** Mean loss on {@code ids} at alpha, no graph. */
    public double loss(NDArray ids, double alpha) {
        try (NDManager s = manager.newSubManager()) {
            Weights w = weightsAt(alpha, s);
            ids.tempAttach(s);
            return Losses.causalLm(architectureAt(alpha).forward(w, ids), ids).toType(DataType.FLOAT64, false).getDouble();
        }
    }

    /**
     * The transformed, interpolated weights of the tensors {@code names}, with the parameters of
     * {@code leavesA}/{@code leavesB} replacing the stored ones (gradient leaves); everything new
     * lives in {@code scope}.
     */
    private Weights part(List<String> names, double alpha, Map<String, NDArray> leavesA, Map<String, NDArray> leavesB,
                         NDManager scope) {
        return part(names, alpha, leavesA, leavesB, null, scope);
    }

    /** As above; with {@code rows}, the token embedding is made for just those rows (see {@link TokenRows}). */
    private Weights part(List<String> names, double alpha, Map<String, NDArray> leavesA, Map<String, NDArray> leavesB,
                         TokenRows rows, NDManager scope) {
        // Each side's weights come pre-scaled by its interpolation weight (folded into the transform).
        Weights wa = side(a, names, leavesA, rows, 1 - alpha, scope);
        Weights wb = side(b, names, leavesB, rows, alpha, scope);
        Weights out = new Weights(scope, "path at alpha " + alpha);
        for (String n : names) {
            NDArray x = wa.get(n);
            NDArray sum;
            if (x != a.canonical.get(n)) {
                // A's transformed tensor is new and nothing saved it for backward (products save their
                // inputs): add in place, one fresh weight-sized array fewer per tensor.
                sum = x.addi(wb.get(n));
            } else {
                sum = x.add(wb.get(n));
            }
            sum.attach(scope); // an untouched canonical array would otherwise own it
            out.put(n, sum);
        }
        return out;
    }

    private Weights side(Side s, List<String> names, Map<String, NDArray> leaves, TokenRows rows, double factor,
                         NDManager scope) {
        Weights view = new Weights(scope, s.canonical.source());
        String table = archs.base().tokenEmbedding();
        for (String n : names) {
            view.put(n, rows != null && n.equals(table) ? rows.select(s.canonical.get(n)) : s.canonical.get(n));
        }
        return TransformEngine.apply(spec, transformOf(s, leaves, scope), view, view.names(), factor);
    }

    /** The learned slots whose parameters the tensors {@code names} depend on. */
    private Set<String> slotsOf(List<String> names, Side s) {
        Set<String> out = new LinkedHashSet<>();
        for (String n : names) {
            TensorRule r = spec.rule(n);
            if (r == null) {
                continue;
            }
            for (AxisRule ax : new AxisRule[] {r.out(), r.in()}) {
                if (ax == null) {
                    continue;
                }
                for (SlotRef ref : ax.slots()) {
                    if (s.learned.contains(ref.slotName())) {
                        out.add(ref.slotName());
                    }
                }
            }
        }
        return out;
    }

    /** Fresh gradient leaves (copies in {@code scope}) of {@code slots}. */
    private static Map<String, NDArray> leaves(Side s, Set<String> slots, NDManager scope) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (String slot : slots) {
            NDArray leaf = s.params.get(slot).duplicate();
            leaf.attach(scope);
            leaf.setRequiresGradient(true);
            out.put(slot, leaf);
        }
        return out;
    }

    /** Adds each leaf's gradient into {@code acc} (arrays in {@code accManager}). */
    private static void accumulate(Map<String, NDArray> leaves, Map<String, NDArray> acc, NDManager accManager) {
        for (Map.Entry<String, NDArray> e : leaves.entrySet()) {
            NDArray g = e.getValue().getGradient();
            NDArray have = acc.get(e.getKey());
            if (have == null) {
                NDArray c = g.duplicate();
                c.attach(accManager);
                acc.put(e.getKey(), c);
            } else {
                have.addi(g);
            }
        }
    }

    /** Zero gradients for learned slots no part touched (so every learned slot has an entry). */
    private void fillZeros(Side s, Map<String, NDArray> acc, NDManager accManager) {
        for (String slot : s.learned) {
            if (!acc.containsKey(slot)) {
                NDArray z = s.params.get(slot).zerosLike();
                z.attach(accManager);
                acc.put(slot, z);
            }
        }
    }

    /**
     * Loss and gradients on one batch at one alpha by layer-block streaming (see the class comment).
     *
     * @param ids token ids [B, T] (int64)
     */
    public Gradients streamingGradients(NDArray ids, double alpha) {
        return reusingMemory(() -> streamed(ids, alpha));
    }

    /** Runs a step with freed native memory kept for reuse: a step frees and makes many tensors ({@link NativeAllocator}). */
    private static Gradients reusingMemory(java.util.function.Supplier<Gradients> step) {
        try (NativeAllocator.Scope reuse = NativeAllocator.reuse()) {
            return step.get();
        }
    }

    private Gradients streamed(NDArray ids, double alpha) {
        Architecture arch = architectureAt(alpha);
        int layers = blockTensors.size();
        NDManager out = manager.newSubManager();
        Map<String, NDArray> gradA = new LinkedHashMap<>();
        Map<String, NDArray> gradB = new LinkedHashMap<>();
        double[] loss = new double[1];
        try (NDManager step = manager.newSubManager()) {
            // Forward without a graph, keeping only block inputs.
            NDArray[] inputs = new NDArray[layers + 1];
            try (NDManager s = step.newSubManager()) {
                ids.tempAttach(s);
                TokenRows rows = tokenRows(ids, s);
                Weights w = part(embedTensors, alpha, Map.of(), Map.of(), rows, s);
                NDArray h = arch.embed(w, rows == null ? ids : rows.renumbered());
                h.attach(step);
                inputs[0] = h;
            }
            for (int l = 0; l < layers; l++) {
                try (NDManager s = step.newSubManager()) {
                    inputs[l].tempAttach(s);
                    Weights w = part(blockTensors.get(l), alpha, Map.of(), Map.of(), s);
                    NDArray h = arch.block(l, w, inputs[l]);
                    h.attach(step);
                    inputs[l + 1] = h;
                }
            }
            // Backward: head, then blocks from the last, then the embedding.
            NDArray[] upstream = new NDArray[1];
            GradientLock.collect(c -> {
                try (NDManager s = step.newSubManager()) {
                    Map<String, NDArray> la = leaves(a, slotsOf(headTensors, a), s);
                    Map<String, NDArray> lb = leaves(b, slotsOf(headTensors, b), s);
                    NDArray hin = inputs[layers].duplicate();
                    hin.attach(s);
                    hin.setRequiresGradient(true);
                    ids.tempAttach(s);
                    NDArray lossArr = Losses.causalLm(headLogits(arch, alpha, la, lb, hin, s), ids);
                    c.backward(lossArr);
                    loss[0] = lossArr.toType(DataType.FLOAT64, false).getDouble();
                    accumulate(la, gradA, out);
                    accumulate(lb, gradB, out);
                    NDArray g = hin.getGradient().duplicate();
                    g.attach(step);
                    upstream[0] = g;
                }
            });
            for (int l = layers - 1; l >= -1; l--) {
                List<String> names = l >= 0 ? blockTensors.get(l) : embedTensors;
                NDArray input = l >= 0 ? inputs[l] : null;
                int layer = l;
                GradientLock.collect(c -> {
                    try (NDManager s = step.newSubManager()) {
                        Map<String, NDArray> la = leaves(a, slotsOf(names, a), s);
                        Map<String, NDArray> lb = leaves(b, slotsOf(names, b), s);
                        if (la.isEmpty() && lb.isEmpty() && input == null) {
                            return; // nothing upstream of the embedding learns
                        }
                        NDArray hin = null;
                        NDArray result;
                        if (input != null) {
                            Weights w = part(names, alpha, la, lb, s);
                            hin = input.duplicate();
                            hin.attach(s);
                            hin.setRequiresGradient(true);
                            result = arch.block(layer, w, hin);
                        } else {
                            ids.tempAttach(s);
                            TokenRows rows = tokenRows(ids, s);
                            Weights w = part(names, alpha, la, lb, rows, s);
                            result = arch.embed(w, rows == null ? ids : rows.renumbered());
                        }
                        c.backward(result.mul(upstream[0]).sum());
                        accumulate(la, gradA, out);
                        accumulate(lb, gradB, out);
                        if (hin != null) {
                            NDArray g = hin.getGradient().duplicate();
                            g.attach(step);
                            upstream[0].close();
                            upstream[0] = g;
                        }
                    }
                });
            }
        }
        fillZeros(a, gradA, out);
        fillZeros(b, gradB, out);
        return new Gradients(loss[0], gradA, gradB, out);
    }

    /**
     * Loss and gradients on one batch at one alpha: from one graph ({@link #graphGradients}) when
     * its estimated memory ({@link #graphBytesEstimate}) is at most {@code graphMemory} bytes,
     * else by layer-block streaming ({@link #streamingGradients}). Both give the same result; the
     * one-graph step skips the streamed step's second application of both sides' transforms.
     */
    public Gradients gradients(NDArray ids, double alpha, long graphMemory) {
        return graphBytesEstimate() <= graphMemory ? graphGradients(ids, alpha) : streamingGradients(ids, alpha);
    }

    /**
     * The memory the one-graph step holds beyond the canonical weights: autograd keeps about
     * {@value #GRAPH_COPIES} float32 copies of the transformed weights (each side's rotated tensors
     * the next operation saved, and the interpolated weights the model's products saved),
     * estimated from A's canonical weights (measured by {@code bench/run step}: see
     * docs/benchmarks.md). Activations of a batch of a few thousand tokens are small beside them.
     */
    public long graphBytesEstimate() {
        return graphBytes;
    }

    /** See {@link #graphBytesEstimate}. */
    static final int GRAPH_COPIES = 8;

    /** The default of {@code lmc.compute.step-graph-memory} (the in-process learned matching uses it). */
    public static final long DEFAULT_GRAPH_MEMORY = 4L << 30;

    /**
     * The same loss and gradients as {@link #streamingGradients} from one graph over the whole
     * model: no forward pass without a graph and no per-block recompute, so each side's
     * transforms are applied once per step instead of twice; the graph holds every part's
     * transformed weights at once (see {@link #graphBytesEstimate}). The token embedding is made
     * for the batch's distinct tokens only, as in streaming.
     */
    public Gradients graphGradients(NDArray ids, double alpha) {
        return reusingMemory(() -> oneGraph(ids, alpha));
    }

    private Gradients oneGraph(NDArray ids, double alpha) {
        return inOneGraph(alpha, (arch, la, lb, s) -> {
            ids.tempAttach(s);
            TokenRows rows = tokenRows(ids, s);
            // One engine call for embedding and blocks: each slot's element (the rotation, say) is made once.
            Weights w = part(bodyTensors(), alpha, la, lb, rows, s);
            NDArray h = arch.embed(w, rows == null ? ids : rows.renumbered());
            for (int l = 0; l < blockTensors.size(); l++) {
                h = arch.block(l, w, h);
            }
            return Losses.causalLm(headLogits(arch, alpha, la, lb, h, s), ids);
        });
    }

    /** The loss of one graph, given the architecture at alpha, both sides' gradient leaves and a scope. */
    private interface GraphLoss {
        NDArray loss(Architecture arch, Map<String, NDArray> leavesA, Map<String, NDArray> leavesB, NDManager scope);
    }

    /** Loss and gradients of every learned slot from one graph built by {@code graph}. */
    private Gradients inOneGraph(double alpha, GraphLoss graph) {
        Architecture arch = architectureAt(alpha);
        NDManager out = manager.newSubManager();
        Map<String, NDArray> gradA = new LinkedHashMap<>();
        Map<String, NDArray> gradB = new LinkedHashMap<>();
        double[] loss = new double[1];
        GradientLock.collect(c -> {
            try (NDManager s = manager.newSubManager()) {
                Map<String, NDArray> la = leaves(a, a.learned, s);
                Map<String, NDArray> lb = leaves(b, b.learned, s);
                NDArray lossArr = graph.loss(arch, la, lb, s);
                c.backward(lossArr);
                loss[0] = lossArr.toType(DataType.FLOAT64, false).getDouble();
                accumulate(la, gradA, out);
                accumulate(lb, gradB, out);
            }
        });
        fillZeros(a, gradA, out);
        fillZeros(b, gradB, out);
        return new Gradients(loss[0], gradA, gradB, out);
    }

    /** Whether the head's logits may come from rotated activations (for tests). */
    boolean headByActivations() {
        return headByActivations;
    }

    /**
     * The logits of the path's head at alpha for the last hidden state {@code hidden}. When the
     * head allows it ({@link #headByActivations}) and the batch has at most d tokens, the
     * unembedding is not made: with x the final norm's output (its parameters interpolated as
     * usual) and the unembeddings W_A O_A and W_B O_B (only rotated), the path's logits are
     * x ((1 - alpha) W_A O_A + alpha W_B O_B)^T = (1 - alpha) (x O_A^T) W_A^T + alpha (x O_B^T) W_B^T,
     * two T x d x V products with the canonical tables instead of rotating both V x d tables
     * (2 V d^2 each, forward and again backward) and interpolating them. With more than d tokens
     * the weights are made as everywhere else.
     */
    private NDArray headLogits(Architecture arch, double alpha, Map<String, NDArray> leavesA,
                               Map<String, NDArray> leavesB, NDArray hidden, NDManager scope) {
        long d = hidden.getShape().get(hidden.getShape().dimension() - 1);
        long tokens = hidden.getShape().size() / d;
        if (!headByActivations || tokens > d) {
            return arch.head(part(headTensors, alpha, leavesA, leavesB, scope), hidden);
        }
        String u = arch.unembedding();
        List<String> norm = new ArrayList<>(headTensors);
        norm.remove(u);
        NDArray x = arch.finalNorm(part(norm, alpha, leavesA, leavesB, scope), hidden);
        NDArray logitsA = Nn.linear(TransformEngine.readerInput(spec, transformOf(a, leavesA, scope), x),
                a.canonical.get(u), null);
        NDArray logitsB = Nn.linear(TransformEngine.readerInput(spec, transformOf(b, leavesB, scope), x),
                b.canonical.get(u), null);
        return Nn.times(logitsA, 1 - alpha).add(Nn.times(logitsB, alpha));
    }

    private Transform transformOf(Side s, Map<String, NDArray> leaves, NDManager scope) {
        Map<String, NDArray> p = new LinkedHashMap<>(s.params);
        p.putAll(leaves);
        return Transform.of(spec, groups, p, scope);
    }

    /** The batch's distinct tokens, when the architecture looks ids up in a token table. */
    private TokenRows tokenRows(NDArray ids, NDManager scope) {
        return archs.base().tokenEmbedding() == null ? null : TokenRows.of(ids, scope);
    }

    /** The same loss and gradients from one graph over the whole model (reference for tests and tiny models). */
    public Gradients wholeGraphGradients(NDArray ids, double alpha) {
        return inOneGraph(alpha, (arch, la, lb, s) -> {
            ids.tempAttach(s);
            return Losses.causalLm(arch.forward(part(allTensors(), alpha, la, lb, s), ids), ids);
        });
    }

    /** Every tensor of the path: embedding, blocks, head. */
    private List<String> allTensors() {
        List<String> all = bodyTensors();
        all.addAll(headTensors);
        return all;
    }

    /** The embedding's and the blocks' tensors (a new list). */
    private List<String> bodyTensors() {
        List<String> body = new ArrayList<>(embedTensors);
        for (List<String> blk : blockTensors) {
            body.addAll(blk);
        }
        return body;
    }

    /** The slots of every layer and the global ones, for callers choosing what to learn. */
    public static Set<String> slotNames(Transform t) {
        return new LinkedHashSet<>(t.parameters().keySet());
    }

    /** The global slots (layer -1) among {@code slots}. */
    public Set<String> globalSlots(Set<String> slots) {
        Set<String> out = new LinkedHashSet<>();
        for (String s : slots) {
            Slot slot = spec.slot(s);
            if (slot.layer() < 0) {
                out.add(s);
            }
        }
        return out;
    }

    @Override
    public void close() {
        manager.close();
    }
}
