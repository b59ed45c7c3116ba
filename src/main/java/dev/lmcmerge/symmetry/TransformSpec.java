package dev.lmcmerge.symmetry;

import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Family;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.TensorSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The symmetry table of one configured model, the generalization of Git Re-Basin's
 * PermutationSpec: the group slots (residual rotation and scale; per layer heads, qk, vo, ffn
 * permutation and scale) and, for every Hugging Face tensor, which slots act on its output and
 * input axes and how those axes are laid out; plus the norms with their readers and the tied
 * unembedding for the canonical form. Built once per model from {@link SpecTables} and checked
 * against the architecture's tensor list ({@link #bind}); everything else (canonical form,
 * {@link TransformEngine}, export, matching) only reads it.
 */
public final class TransformSpec {

    /** Non-weight buffers some checkpoints carry; not part of the model's parameters. */
    private static final List<String> BUFFER_SUFFIXES = List.of(
            ".attention.bias", ".attention.masked_bias", ".rotary_emb.inv_freq",
            ".attn.bias", ".attn.masked_bias");

    private final SpecDimensions dims;
    private final Map<String, Slot> slots;
    private final Map<String, TensorRule> rules;
    private final List<NormRule> norms;
    private final String tiedHead;
    private final String tiedEmbedding;

    private TransformSpec(SpecDimensions dims, Map<String, Slot> slots, Map<String, TensorRule> rules,
                          List<NormRule> norms, String tiedHead, String tiedEmbedding) {
        this.dims = dims;
        this.slots = Collections.unmodifiableMap(slots);
        this.rules = Collections.unmodifiableMap(rules);
        this.norms = List.copyOf(norms);
        this.tiedHead = tiedHead;
        this.tiedEmbedding = tiedEmbedding;
    }

    /**
     * The bound table of an architecture (its config and tensor list) with the standard Cayley
     * parameterizations: the usual entry point.
     */
    public static TransformSpec forArchitecture(Architecture arch) {
        return forArchitecture(arch, StandardParameterizations.cayley());
    }

    /** The bound table of an architecture with the given parameterizations. */
    public static TransformSpec forArchitecture(Architecture arch, SlotParameterizations parameterizations) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (TensorSpec t : arch.tensors()) {
            shapes.put(t.name(), t.shape());
        }
        return build(dimensionsOf(arch.config()), parameterizations)
                .bind(shapes, arch.config().modelType() + " model");
    }

    /** The facts of {@code cfg} the table needs. */
    public static SpecDimensions dimensionsOf(ModelConfig cfg) {
        return new SpecDimensions(cfg.family().id(), cfg.numLayers(), cfg.hiddenSize(), cfg.numHeads(),
                cfg.numKvHeads(), cfg.headDim(), cfg.intermediateSize(), cfg.rotaryDim(), cfg.family().layerNorm(),
                cfg.family() == Family.LLAMA, cfg.tieWordEmbeddings());
    }

    /**
     * The full table of a family (including optional tensors such as q/k/v biases), not yet
     * checked against an architecture; use {@link #bind} before applying it.
     */
    public static TransformSpec build(SpecDimensions dims, SlotParameterizations parameterizations) {
        SpecTableBuilder b = new SpecTableBuilder(dims);
        SpecTables.build(b);
        Map<String, Slot> slots = new LinkedHashMap<>();
        addSlot(slots, SlotKind.RESIDUAL_ROTATION, -1, 1, dims, parameterizations);
        addSlot(slots, SlotKind.RESIDUAL_SCALE, -1, 1, dims, parameterizations);
        for (int l = 0; l < dims.layers(); l++) {
            addSlot(slots, SlotKind.HEAD_GROUPS, l, 1, dims, parameterizations);
            if (dims.groupSize() > 1) {
                addSlot(slots, SlotKind.HEADS_IN_GROUP, l, dims.kvHeads(), dims, parameterizations);
            }
            addSlot(slots, SlotKind.QK, l, dims.kvHeads(), dims, parameterizations);
            addSlot(slots, SlotKind.VO, l, dims.kvHeads(), dims, parameterizations);
            addSlot(slots, SlotKind.FFN_PERMUTATION, l, 1, dims, parameterizations);
            if (dims.gatedMlp()) {
                addSlot(slots, SlotKind.FFN_SCALE, l, 1, dims, parameterizations);
            }
        }
        TransformSpec spec = new TransformSpec(dims, slots, b.rules, b.norms, b.tiedHead, b.tiedEmbedding);
        spec.checkSlotReferences();
        return spec;
    }

    private static void addSlot(Map<String, Slot> slots, SlotKind kind, int layer, int count, SpecDimensions dims,
                                SlotParameterizations p) {
        String name = Slot.nameOf(kind, layer);
        slots.put(name, new Slot(name, kind, layer, count, p.forKind(kind, dims)));
    }

    private void checkSlotReferences() {
        for (TensorRule r : rules.values()) {
            for (AxisRule a : Arrays.asList(r.out(), r.in())) {
                if (a == null) {
                    continue;
                }
                for (SlotRef ref : a.slots()) {
                    if (!slots.containsKey(ref.slotName())) {
                        throw new IllegalStateException("spec table of " + dims.family() + ": tensor " + r.name()
                                + " refers to slot " + ref.slotName() + " that this model does not have");
                    }
                }
            }
        }
    }

    /**
     * This table restricted to the tensors the architecture actually has, checked once: every
     * listed tensor is covered by exactly one rule, every required rule names a listed tensor
     * (except the tied unembedding, absent from tied checkpoints), and each transformed axis has
     * the length its layout implies.
     *
     * @param tensorShapes the architecture's tensor names and shapes, in order
     * @param where        the model, for error messages
     * @throws LmcException INVALID_INPUT naming the tensors at fault
     */
    public TransformSpec bind(Map<String, long[]> tensorShapes, String where) {
        List<String> problems = new ArrayList<>();
        Set<String> uncovered = new TreeSet<>();
        for (String name : tensorShapes.keySet()) {
            if (!rules.containsKey(name) && !isBuffer(name)) {
                uncovered.add(name);
            }
        }
        if (!uncovered.isEmpty()) {
            problems.add("tensors with no rule in the " + dims.family() + " transform spec: " + uncovered);
        }
        Map<String, TensorRule> bound = new LinkedHashMap<>();
        for (TensorRule r : rules.values()) {
            long[] shape = tensorShapes.get(r.name());
            if (shape == null && r.name().equals(tiedHead) && tensorShapes.containsKey(tiedEmbedding)) {
                shape = tensorShapes.get(tiedEmbedding);
            }
            if (shape == null) {
                if (!r.optional()) {
                    problems.add("the " + dims.family() + " transform spec expects tensor " + r.name()
                            + " which the architecture does not list");
                }
                continue;
            }
            checkAxis(r.name(), "output", r.out(), shape, problems);
            checkAxis(r.name(), "input", r.in(), shape, problems);
            bound.put(r.name(), r);
        }
        List<NormRule> boundNorms = new ArrayList<>();
        for (NormRule n : norms) {
            List<NormRule.Reader> readers = new ArrayList<>();
            for (NormRule.Reader reader : n.readers()) {
                if (!bound.containsKey(reader.weight())) {
                    problems.add("norm " + n.weight() + " reader " + reader.weight() + " is not a tensor of the model");
                    continue;
                }
                String bias = reader.bias() != null && bound.containsKey(reader.bias()) ? reader.bias() : null;
                readers.add(new NormRule.Reader(reader.weight(), bias));
            }
            long[] ws = tensorShapes.get(n.weight());
            if (ws == null || ws.length != 1 || ws[0] != dims.hidden()) {
                problems.add("norm weight " + n.weight() + " should have shape [" + dims.hidden() + "] but has "
                        + (ws == null ? "no entry" : Arrays.toString(ws)));
            }
            String bias = n.bias() != null && bound.containsKey(n.bias()) ? n.bias() : null;
            boundNorms.add(new NormRule(n.weight(), bias, readers));
        }
        if (!problems.isEmpty()) {
            throw LmcException.invalidInput(where, String.join("; ", problems));
        }
        return new TransformSpec(dims, new LinkedHashMap<>(slots), bound, boundNorms, tiedHead, tiedEmbedding);
    }

    private static void checkAxis(String name, String which, AxisRule a, long[] shape, List<String> problems) {
        if (a == null) {
            return;
        }
        if (a.storageAxis() >= shape.length) {
            problems.add(name + " has shape " + Arrays.toString(shape) + " but its " + which
                    + " axis should be stored axis " + a.storageAxis());
        } else if (shape[a.storageAxis()] != a.layout().size()) {
            problems.add(name + " has shape " + Arrays.toString(shape) + " but its " + which + " axis (stored axis "
                    + a.storageAxis() + ") should have length " + a.layout().size() + " (" + a.layout() + ")");
        }
    }

    /** True for non-weight buffers of older checkpoints, which no rule covers and every step ignores. */
    public static boolean isBuffer(String name) {
        for (String s : BUFFER_SUFFIXES) {
            if (name.endsWith(s)) {
                return true;
            }
        }
        return false;
    }

    public SpecDimensions dims() {
        return dims;
    }

    public String family() {
        return dims.family();
    }

    /** Every slot by name, in a stable order (global slots first, then layer by layer). */
    public Map<String, Slot> slots() {
        return slots;
    }

    /** The slot named {@code name}. */
    public Slot slot(String name) {
        Slot s = slots.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no slot " + name + " in the " + dims.family() + " spec; slots: "
                    + slots.keySet());
        }
        return s;
    }

    /** Every tensor rule by Hugging Face name, in the table's order. */
    public Map<String, TensorRule> rules() {
        return rules;
    }

    /** The rule of {@code name}, or null for names not in the table (buffers). */
    public TensorRule rule(String name) {
        return rules.get(name);
    }

    /** Every norm with its readers. */
    public List<NormRule> norms() {
        return norms;
    }

    /** True for LayerNorm families (centering; residual rotations fix the all-ones direction). */
    public boolean layerNorm() {
        return dims.layerNorm();
    }

    /** The unembedding tensor tied to the embedding in the stock checkpoint, or null if untied. */
    public String tiedHead() {
        return tiedHead;
    }

    /** The embedding the unembedding is tied to, or null if untied. */
    public String tiedEmbedding() {
        return tiedEmbedding;
    }

    /** The slots of the given groups (the ones a run with those groups transforms). */
    public List<Slot> slotsOf(Collection<SlotGroup> groups) {
        List<Slot> out = new ArrayList<>();
        for (Slot s : slots.values()) {
            if (groups.contains(s.kind().group())) {
                out.add(s);
            }
        }
        return out;
    }
}
