package dev.lmcmerge.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.ejml.data.DMatrixRMaj;

/**
 * Copies between DJL tensors and EJML double matrices. Matching works in float64 on the JVM
 * because DJL exposes no SVD or symmetric eigen solver; the results go back as float32 tensors.
 */
public final class DenseMatrices {
    private DenseMatrices() {
    }

    /** A 2-D tensor as a row-major double matrix (a 1-D tensor becomes one row). */
    public static DMatrixRMaj toDense(NDArray a) {
        Shape s = a.getShape();
        float[] v = a.toType(DataType.FLOAT32, false).toFloatArray();
        int rows = s.dimension() == 1 ? 1 : (int) s.get(0);
        int cols = s.dimension() == 1 ? (int) s.get(0) : (int) (s.size() / s.get(0));
        DMatrixRMaj m = new DMatrixRMaj(rows, cols);
        for (int i = 0; i < v.length; i++) {
            m.data[i] = v[i];
        }
        return m;
    }

    /** A double matrix as a float32 tensor of shape [rows, cols] in {@code manager}. */
    public static NDArray toNd(NDManager manager, DMatrixRMaj m) {
        float[] v = new float[m.getNumElements()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) m.data[i];
        }
        return manager.create(v, new Shape(m.numRows, m.numCols));
    }

    /**
     * The tensor with storage axis {@code axis} moved to the front and the rest flattened:
     * [axisLength, rest] (a 1-D tensor gives [n, 1]). Row i collects every entry whose index on
     * that axis is i, in the tensor's memory order, so the same call on two models of one
     * architecture yields comparable columns.
     */
    public static DMatrixRMaj axisRows(NDArray t, int axis) {
        Shape s = t.getShape();
        if (s.dimension() == 1) {
            DMatrixRMaj m = toDense(t);
            m.reshape(m.numCols, 1, true);
            return m;
        }
        // Intermediates go to a scratch manager so reading a weight leaves nothing behind in its own.
        try (NDManager scratch = t.getManager().newSubManager()) {
            t.tempAttach(scratch);
            NDArray moved = axis == 0 ? t : t.swapAxes(0, axis);
            long n = s.get(axis);
            return toDense(moved.reshape(n, s.size() / n));
        }
    }

    /** Rows {@code r0..r1-1} and columns {@code c0..c1-1} of {@code m} as a new matrix. */
    public static DMatrixRMaj block(DMatrixRMaj m, int r0, int r1, int c0, int c1) {
        DMatrixRMaj out = new DMatrixRMaj(r1 - r0, c1 - c0);
        org.ejml.dense.row.CommonOps_DDRM.extract(m, r0, r1, c0, c1, out, 0, 0);
        return out;
    }
}
