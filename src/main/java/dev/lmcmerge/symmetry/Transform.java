package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.config.LmcException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * One element of a model's symmetry group: a parameter array for every slot of the chosen
 * {@link SlotGroup}s of a {@link TransformSpec}; every other slot is the identity. Parameter
 * arrays are plain float32 NDArrays, so callers may attach gradients to them and learn them
 * through {@link TransformEngine#apply}.
 */
public final class Transform {
    private final TransformSpec spec;
    private final Set<SlotGroup> groups;
    private final Map<String, NDArray> params;

    private Transform(TransformSpec spec, Set<SlotGroup> groups, Map<String, NDArray> params) {
        this.spec = spec;
        this.groups = Collections.unmodifiableSet(EnumSet.copyOf(groups.isEmpty()
                ? EnumSet.noneOf(SlotGroup.class) : groups));
        this.params = Collections.unmodifiableMap(params);
    }

    /** The identity element on the slots of {@code groups}. */
    public static Transform identity(TransformSpec spec, Collection<SlotGroup> groups, NDManager manager) {
        Map<String, NDArray> p = new LinkedHashMap<>();
        for (Slot s : spec.slotsOf(groups)) {
            p.put(s.name(), identityOf(s, manager));
        }
        return new Transform(spec, asSet(groups), p);
    }

    private static NDArray identityOf(Slot s, NDManager manager) {
        List<NDArray> copies = new ArrayList<>();
        for (int i = 0; i < s.count(); i++) {
            copies.add(s.parameterization().identityParams(manager));
        }
        return stack(copies, s);
    }

    /**
     * A random element, well away from the identity, on the slots of {@code groups}:
     * the same seed gives the same element.
     */
    public static Transform random(TransformSpec spec, Collection<SlotGroup> groups, long seed, NDManager manager) {
        Random rng = new Random(seed);
        Map<String, NDArray> p = new LinkedHashMap<>();
        for (Slot s : spec.slotsOf(groups)) {
            List<NDArray> copies = new ArrayList<>();
            for (int i = 0; i < s.count(); i++) {
                copies.add(s.parameterization().randomParams(manager, rng));
            }
            p.put(s.name(), stack(copies, s));
        }
        return new Transform(spec, asSet(groups), p);
    }

    /**
     * An element with the given parameter arrays (shape {@code [count, ...paramShape]} per slot).
     * Slots of {@code groups} missing from {@code params} are the identity.
     *
     * @throws IllegalArgumentException for an unknown slot, a slot outside {@code groups} or a wrong shape
     */
    public static Transform of(TransformSpec spec, Collection<SlotGroup> groups, Map<String, NDArray> params,
                               NDManager manager) {
        Map<String, NDArray> p = new LinkedHashMap<>();
        Set<SlotGroup> g = asSet(groups);
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            Slot s = spec.slot(e.getKey());
            if (!g.contains(s.kind().group())) {
                throw new IllegalArgumentException("slot " + s.name() + " belongs to group " + s.kind().group().key()
                        + " which is not among " + g);
            }
            if (!s.accepts(e.getValue().getShape())) {
                throw new IllegalArgumentException("slot " + s.name() + " expects parameters of shape " + s.paramShape()
                        + (s.indexShape() != null ? " (or " + s.indexShape() + " in index form)" : "")
                        + ", got " + e.getValue().getShape());
            }
            if (s.isIndexForm(e.getValue())) {
                Permutation perm = (Permutation) s.parameterization();
                for (int c = 0; c < s.count(); c++) {
                    perm.indicesOfIndexForm(e.getValue().get(c)); // validates: a permutation of 0..n-1
                }
            }
        }
        for (Slot s : spec.slotsOf(g)) {
            NDArray given = params.get(s.name());
            p.put(s.name(), given != null ? given : identityOf(s, manager));
        }
        return new Transform(spec, g, p);
    }

    /**
     * Reloads an element from {@link #entries()} rows.
     *
     * @param where the file or table the rows come from, for error messages
     * @throws LmcException INVALID_INPUT for rows naming unknown slots or with wrong shapes
     */
    public static Transform fromEntries(TransformSpec spec, Collection<SlotGroup> groups, List<TransformEntry> entries,
                                        NDManager manager, String where) {
        Map<String, NDArray> p = new LinkedHashMap<>();
        for (TransformEntry e : entries) {
            Slot s = spec.slots().get(e.slot());
            if (s == null) {
                throw LmcException.invalidInput(where, "unknown slot " + e.slot() + " for a " + spec.family() + " model");
            }
            Shape shape = new Shape(e.shape());
            if (!s.accepts(shape) || shape.size() != e.values().length) {
                throw LmcException.invalidInput(where, "slot " + e.slot() + " has shape " + shape + " with "
                        + e.values().length + " values; expected shape " + s.paramShape()
                        + (s.indexShape() != null ? " (or " + s.indexShape() + " in index form)" : ""));
            }
            p.put(e.slot(), manager.create(e.values(), shape));
        }
        try {
            return of(spec, groups, p, manager);
        } catch (IllegalArgumentException ex) {
            throw LmcException.invalidInput(where, ex.getMessage());
        }
    }

    private static Set<SlotGroup> asSet(Collection<SlotGroup> groups) {
        return groups.isEmpty() ? EnumSet.noneOf(SlotGroup.class) : EnumSet.copyOf(groups);
    }

    private static NDArray stack(List<NDArray> copies, Slot s) {
        NDArray out = copies.size() == 1 ? copies.get(0).expandDims(0) : NDArrays.stack(new ai.djl.ndarray.NDList(copies));
        return out.toType(DataType.FLOAT32, false).reshape(s.paramShape());
    }

    public TransformSpec spec() {
        return spec;
    }

    /** The slot groups this element acts with. */
    public Set<SlotGroup> groups() {
        return groups;
    }

    /** True if {@code slot} is transformed (its group was chosen); false means identity. */
    public boolean active(Slot slot) {
        return params.containsKey(slot.name());
    }

    /** The parameter array of an active slot ([count, ...paramShape]). */
    public NDArray params(String slotName) {
        NDArray p = params.get(slotName);
        if (p == null) {
            throw new IllegalArgumentException("slot " + slotName + " is not active in this transform (groups " + groups + ")");
        }
        return p;
    }

    /** Every active slot's parameter array, by slot name. */
    public Map<String, NDArray> parameters() {
        return params;
    }

    /**
     * The factor every norm eps is multiplied by for the transformed model to be exact: c^2 with
     * c the residual scale if the scale group is active, else 1.
     */
    public double epsScale() {
        NDArray p = params.get(Slot.nameOf(SlotKind.RESIDUAL_SCALE, -1));
        if (p == null) {
            return 1.0;
        }
        Slot s = spec.slot(Slot.nameOf(SlotKind.RESIDUAL_SCALE, -1));
        double c = s.parameterization().materialize(p.get(0).stopGradient()).toType(DataType.FLOAT64, false)
                .toDoubleArray()[0];
        return c * c;
    }

    /** True if a residual scale is part of this element (so the exported eps changes). */
    public boolean scalesResidual() {
        return params.containsKey(Slot.nameOf(SlotKind.RESIDUAL_SCALE, -1));
    }

    /** Every active slot's parameters as plain rows (slot, layer, kind, shape, values). */
    public List<TransformEntry> entries() {
        List<TransformEntry> out = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            Slot s = spec.slot(e.getKey());
            NDArray v = e.getValue().stopGradient().toType(DataType.FLOAT32, false);
            out.add(new TransformEntry(s.name(), s.layer(), s.kind(), v.getShape().getShape(), v.toFloatArray()));
        }
        return out;
    }
}
