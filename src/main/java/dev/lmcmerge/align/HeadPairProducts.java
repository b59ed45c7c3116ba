package dev.lmcmerge.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import org.ejml.data.DMatrixRMaj;

/**
 * Every product X_i Y_j^T of two lists of head blocks (rows {@code from..to} of each block,
 * equal widths), computed as one libtorch GEMM of the stacked blocks. Head matching needs
 * tr((X_i Y_j^T)(Z_k W_l^T)) for every pair of heads; computed pair by pair with EJML that is
 * minutes per layer at a billion parameters (head dim 256, width 2048), stacked it is one
 * multiplication of [heads * rows, width] matrices.
 */
final class HeadPairProducts {
    private final double[] data;
    private final int rows;
    private final int stride;

    private HeadPairProducts(double[] data, int rows, int stride) {
        this.data = data;
        this.rows = rows;
        this.stride = stride;
    }

    /** X_i Y_j^T for all i, j, each block restricted to rows {@code from} (incl.) .. {@code to} (excl.). */
    static HeadPairProducts of(DMatrixRMaj[] xs, DMatrixRMaj[] ys, int from, int to) {
        int r = to - from;
        int cols = xs[0].numCols;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(stack(xs, from, to), new Shape((long) xs.length * r, cols));
            NDArray y = m.create(stack(ys, from, to), new Shape((long) ys.length * r, cols));
            NDArray p = x.matMul(y.transpose());
            double[] out = new double[xs.length * r * ys.length * r];
            DoubleBuffer b = p.toByteBuffer().order(ByteOrder.nativeOrder()).asDoubleBuffer();
            b.get(out);
            return new HeadPairProducts(out, r, ys.length * r);
        }
    }

    private static double[] stack(DMatrixRMaj[] blocks, int from, int to) {
        int r = to - from;
        int cols = blocks[0].numCols;
        double[] out = new double[blocks.length * r * cols];
        for (int b = 0; b < blocks.length; b++) {
            System.arraycopy(blocks[b].data, from * cols, out, b * r * cols, r * cols);
        }
        return out;
    }

    /** Entry (row, col) of X_i Y_j^T. */
    double get(int i, int row, int j, int col) {
        return data[(i * rows + row) * stride + j * rows + col];
    }

    /** tr((X_i Y_j^T)(Z_k W_l^T)) with {@code q} holding the Z W^T products: sum_ab P[a][b] Q[b][a]. */
    static double trace(HeadPairProducts p, int i, int j, HeadPairProducts q, int k, int l) {
        double s = 0;
        for (int a = 0; a < p.rows; a++) {
            for (int b = 0; b < p.rows; b++) {
                s += p.get(i, a, j, b) * q.get(k, b, l, a);
            }
        }
        return s;
    }
}
