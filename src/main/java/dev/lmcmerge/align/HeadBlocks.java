package dev.lmcmerge.align;

import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.AxisLayout;
import dev.lmcmerge.symmetry.HeadRole;
import dev.lmcmerge.symmetry.SlotKind;
import dev.lmcmerge.symmetry.SpecDimensions;
import dev.lmcmerge.symmetry.TransformSpec;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * The attention weights of one layer of one model, cut into per-head blocks by the spec's head
 * axis layouts: for each role (Q, K, V, O) and each head (query heads for Q and O, KV groups for
 * K and V) a matrix [headDim, columns] whose rows are the head-internal index and whose columns
 * are everything the head's rows touch on the other axes (residual inputs, the bias; for O the
 * residual outputs), concatenated over every tensor carrying that role, in table order.
 *
 * <p>Orientation: a head-internal map X acts on Q, K, V blocks as the spec says for output axes
 * (Q <- A Q, K <- A^{-T} K, V <- C V) and on O blocks (an input axis, W_O columns) as
 * O <- C^{-T} O. Circuits Q^T K (per RoPE plane) and O^T V are invariant under those maps.
 */
final class HeadBlocks {
    final int heads;
    final int kvHeads;
    final int headDim;
    private final Map<HeadRole, DMatrixRMaj[]> blocks = new EnumMap<>(HeadRole.class);

    private HeadBlocks(SpecDimensions dims) {
        this.heads = dims.heads();
        this.kvHeads = dims.kvHeads();
        this.headDim = dims.headDim();
    }

    /** Query heads per KV group. */
    int groupSize() {
        return heads / kvHeads;
    }

    /** The block of {@code role} for head (Q, O) or group (K, V) {@code index}, or null if the layer has no such role. */
    DMatrixRMaj block(HeadRole role, int index) {
        DMatrixRMaj[] b = blocks.get(role);
        return b == null ? null : b[index];
    }

    boolean has(HeadRole role) {
        return blocks.containsKey(role);
    }

    static HeadBlocks of(TransformSpec spec, Weights w, int layer) {
        HeadBlocks hb = new HeadBlocks(spec.dims());
        Map<HeadRole, List<DMatrixRMaj>[]> parts = new EnumMap<>(HeadRole.class);
        for (SpecAxes.Use use : SpecAxes.uses(spec, SlotKind.HEAD_GROUPS, layer)) {
            AxisLayout.Heads layout = (AxisLayout.Heads) use.axis().layout();
            DMatrixRMaj rows = DenseMatrices.axisRows(w.get(use.tensor()), use.axis().storageAxis());
            int roles = layout.roles().size();
            int hd = layout.headDim();
            for (int r = 0; r < roles; r++) {
                HeadRole role = layout.roles().get(r);
                @SuppressWarnings("unchecked")
                List<DMatrixRMaj>[] perHead = parts.computeIfAbsent(role, k -> new List[layout.heads()]);
                for (int h = 0; h < layout.heads(); h++) {
                    int start = (layout.headMajor() ? h * roles + r : r * layout.heads() + h) * hd;
                    if (perHead[h] == null) {
                        perHead[h] = new ArrayList<>();
                    }
                    perHead[h].add(DenseMatrices.block(rows, start, start + hd, 0, rows.numCols));
                }
            }
        }
        for (Map.Entry<HeadRole, List<DMatrixRMaj>[]> e : parts.entrySet()) {
            List<DMatrixRMaj>[] perHead = e.getValue();
            DMatrixRMaj[] joined = new DMatrixRMaj[perHead.length];
            for (int h = 0; h < perHead.length; h++) {
                joined[h] = concatColumns(perHead[h]);
            }
            hb.blocks.put(e.getKey(), joined);
        }
        return hb;
    }

    static DMatrixRMaj concatColumns(List<DMatrixRMaj> ms) {
        int rows = ms.get(0).numRows;
        int cols = 0;
        for (DMatrixRMaj m : ms) {
            cols += m.numCols;
        }
        DMatrixRMaj out = new DMatrixRMaj(rows, cols);
        int c = 0;
        for (DMatrixRMaj m : ms) {
            CommonOps_DDRM.insert(m, out, 0, c);
            c += m.numCols;
        }
        return out;
    }
}
