package dev.lmcmerge.symmetry;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The small vocabulary the per-family spec tables are written in: axis rules for residual,
 * head and FFN axes, tensor rows, norms and the tie between unembedding and embedding.
 * It only records data; {@link TransformSpec} checks it against the architecture.
 */
final class SpecTableBuilder {
    private final SpecDimensions dims;
    final Map<String, TensorRule> rules = new LinkedHashMap<>();
    final List<NormRule> norms = new ArrayList<>();
    String tiedHead;
    String tiedEmbedding;

    SpecTableBuilder(SpecDimensions dims) {
        this.dims = dims;
    }

    SpecDimensions dims() {
        return dims;
    }

    // ---- axes ----

    /** A residual writer axis: rotated (O^T on the axis) and scaled by c. */
    AxisRule residualWrite(int axis) {
        return new AxisRule(axis, new AxisLayout.Residual(dims.hidden(), ResidualSide.WRITE),
                List.of(SlotRef.global(SlotKind.RESIDUAL_ROTATION), SlotRef.global(SlotKind.RESIDUAL_SCALE)));
    }

    /** A residual reader axis (input of a reader after a norm): rotated only, the norm absorbs c. */
    AxisRule residualRead(int axis) {
        return new AxisRule(axis, new AxisLayout.Residual(dims.hidden(), ResidualSide.READ),
                List.of(SlotRef.global(SlotKind.RESIDUAL_ROTATION)));
    }

    /** A vector in the normalized stream (a norm's kept bias): rotated only. */
    AxisRule residualNormalized(int axis) {
        return new AxisRule(axis, new AxisLayout.Residual(dims.hidden(), ResidualSide.NORMALIZED),
                List.of(SlotRef.global(SlotKind.RESIDUAL_ROTATION)));
    }

    /**
     * An attention head axis of layer {@code layer} holding {@code roles}, fused head-major
     * ([q_h|k_h|v_h] per head) or role-major ([Q|K|V] sections). Lists the head slots acting on it:
     * heads (and heads-in-group for per-query-head roles under GQA), then qk and/or vo.
     */
    AxisRule heads(int axis, int layer, boolean headMajor, HeadRole... roles) {
        int count = -1;
        for (HeadRole r : roles) {
            int c = r.perQueryHead() ? dims.heads() : dims.kvHeads();
            if (count >= 0 && c != count) {
                throw new IllegalStateException("fused head axis " + Arrays.toString(roles)
                        + " needs equal query and KV head counts");
            }
            count = c;
        }
        List<HeadRole> rs = List.of(roles);
        List<SlotRef> slots = new ArrayList<>();
        slots.add(SlotRef.at(SlotKind.HEAD_GROUPS, layer));
        if (dims.groupSize() > 1 && rs.stream().anyMatch(HeadRole::perQueryHead)) {
            slots.add(SlotRef.at(SlotKind.HEADS_IN_GROUP, layer));
        }
        if (rs.contains(HeadRole.Q) || rs.contains(HeadRole.K)) {
            slots.add(SlotRef.at(SlotKind.QK, layer));
        }
        if (rs.contains(HeadRole.V) || rs.contains(HeadRole.O)) {
            slots.add(SlotRef.at(SlotKind.VO, layer));
        }
        return new AxisRule(axis, new AxisLayout.Heads(rs, count, dims.headDim(), headMajor), slots);
    }

    /** An FFN unit axis of layer {@code layer}: permuted, and scaled where {@code scaled} (gated up rows, down columns). */
    AxisRule units(int axis, int layer, boolean scaled) {
        List<SlotRef> slots = new ArrayList<>();
        slots.add(SlotRef.at(SlotKind.FFN_PERMUTATION, layer));
        if (scaled) {
            slots.add(SlotRef.at(SlotKind.FFN_SCALE, layer));
        }
        return new AxisRule(axis, new AxisLayout.Units(dims.ffn()), slots);
    }

    // ---- rows ----

    void tensor(String name, AxisRule out, AxisRule in) {
        add(new TensorRule(name, out, in, false));
    }

    /** A tensor that exists only under some config flags (biases): dropped if the architecture lacks it. */
    void optionalTensor(String name, AxisRule out, AxisRule in) {
        add(new TensorRule(name, out, in, true));
    }

    /** A tensor no slot touches (norm weights, classifier bias). */
    void fixed(String name) {
        add(new TensorRule(name, null, null, false));
    }

    private void add(TensorRule r) {
        if (rules.putIfAbsent(r.name(), r) != null) {
            throw new IllegalStateException("spec table lists tensor " + r.name() + " twice");
        }
    }

    /**
     * A norm with weight, optional bias (null for RMSNorm) and its readers as alternating
     * weight, bias names (bias null where the reader has none).
     */
    void norm(String weight, String bias, String... readerWeightBiasPairs) {
        fixed(weight);
        if (bias != null) {
            tensor(bias, residualNormalized(0), null);
        }
        List<NormRule.Reader> readers = new ArrayList<>();
        for (int i = 0; i < readerWeightBiasPairs.length; i += 2) {
            readers.add(new NormRule.Reader(readerWeightBiasPairs[i], readerWeightBiasPairs[i + 1]));
        }
        norms.add(new NormRule(weight, bias, readers));
    }

    /** The unembedding {@code head} is tied to {@code embedding} in the stock checkpoint. */
    void tie(String head, String embedding) {
        tiedHead = head;
        tiedEmbedding = embedding;
    }
}
