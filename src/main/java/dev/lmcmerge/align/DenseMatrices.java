package dev.lmcmerge.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
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

    /**
     * The tensor's storage axis {@code axis} as rows, flattened as {@link #axisRows(NDArray, int)}
     * does, kept as a float32 tensor (a new array, or a view; the caller scopes it).
     */
    static NDArray axisRowsNd(NDArray t, int axis) {
        Shape s = t.getShape();
        if (s.dimension() == 1) {
            return t.reshape(s.get(0), 1);
        }
        NDArray moved = axis == 0 ? t : t.swapAxes(0, axis);
        long n = s.get(axis);
        return moved.reshape(n, s.size() / n);
    }

    /**
     * sum_i w_i X_i Y_i^T over pairs of tensors with rows on the given axes, by libtorch's GEMM
     * (float32 products, summed in float64). The cross-covariances of matching are the only
     * large products of the matchers (at a billion parameters the residual one touches every
     * weight): EJML's single-threaded double GEMM would take most of an hour there.
     *
     * @param xs      left tensors, {@code rows} each on their axis
     * @param ys      right tensors, the same shapes as {@code xs}
     * @param axes    the storage axis holding the rows, per pair
     * @param weights w_i per pair
     */
    static DMatrixRMaj crossProducts(List<NDArray> xs, List<NDArray> ys, List<Integer> axes, double[] weights, int rows) {
        try (NDScope scope = new NDScope()) {
            NDArray acc = null;
            for (int i = 0; i < xs.size(); i++) {
                NDArray x = axisRowsNd(xs.get(i), axes.get(i)).toType(DataType.FLOAT32, false);
                NDArray y = axisRowsNd(ys.get(i), axes.get(i)).toType(DataType.FLOAT32, false);
                NDArray p = x.matMul(y.transpose()).toType(DataType.FLOAT64, false).muli(weights[i]);
                acc = acc == null ? p : acc.addi(p);
            }
            DMatrixRMaj m = new DMatrixRMaj(rows, rows);
            if (acc != null) {
                java.nio.DoubleBuffer b = acc.toByteBuffer().order(java.nio.ByteOrder.nativeOrder()).asDoubleBuffer();
                b.get(m.data, 0, rows * rows);
            }
            return m;
        }
    }

    /**
     * ||a_i||^2 + ||b_j||^2 - 2 a_i . b_j for the rows of two double matrices with the same
     * columns, as the rows of a new array (the cost matrix of a row assignment), by libtorch's
     * GEMM: at n = 8192 FFN units of width 4097 EJML would take minutes per layer.
     */
    static double[][] squaredDistances(DMatrixRMaj a, DMatrixRMaj b) {
        int n = a.numRows;
        int m = b.numRows;
        try (NDManager tmp = NDManager.newBaseManager(); NDScope scope = new NDScope()) {
            NDArray x = tmp.create(java.util.Arrays.copyOf(a.data, a.getNumElements()), new Shape(a.numRows, a.numCols));
            NDArray y = tmp.create(java.util.Arrays.copyOf(b.data, b.getNumElements()), new Shape(b.numRows, b.numCols));
            NDArray na = x.mul(x).sum(new int[] {1}).reshape(n, 1);
            NDArray nb = y.mul(y).sum(new int[] {1}).reshape(1, m);
            NDArray d = na.add(nb).sub(x.matMul(y.transpose()).muli(2));
            java.nio.DoubleBuffer buf = d.toByteBuffer().order(java.nio.ByteOrder.nativeOrder()).asDoubleBuffer();
            double[][] out = new double[n][m];
            for (int i = 0; i < n; i++) {
                buf.get(out[i]);
            }
            return out;
        }
    }

    /** Rows {@code r0..r1-1} and columns {@code c0..c1-1} of {@code m} as a new matrix. */
    public static DMatrixRMaj block(DMatrixRMaj m, int r0, int r1, int c0, int c1) {
        DMatrixRMaj out = new DMatrixRMaj(r1 - r0, c1 - c0);
        org.ejml.dense.row.CommonOps_DDRM.extract(m, r0, r1, c0, c1, out, 0, 0);
        return out;
    }
}
