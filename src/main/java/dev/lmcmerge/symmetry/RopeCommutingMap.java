package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/**
 * The head-internal query/key map A (headDim x headDim) that commutes with every RoPE rotation in
 * the Hugging Face rotate_half layout, so q^T R(m-n) k is unchanged when q_h <- A q_h and
 * k_h <- A^{-T} k_h.
 *
 * <p>Layout (HF rotate_half): frequency plane j pairs dims (j, j + r/2) for j < r/2, r = rotaryDim.
 * On plane j, A = e^{a_j} R(phi_j) = e^{a_j} [[cos, -sin], [sin, cos]] (rows/columns j, j + r/2);
 * then A^{-T} = e^{-a_j} R(phi_j) and A^{-1} = e^{-a_j} R(-phi_j) there. No plane mixing and no
 * reflections: those would not commute with all rotations. On the non-rotary dims [r, headDim)
 * (GPT-NeoX partial rotary) A is any invertible map, here {@link PolarInvertible}; with
 * rotaryDim = 0 (GPT-2, ViT) the whole map is a PolarInvertible(headDim). (Meta's original Llama
 * layout pairing (2j, 2j+1) is not this layout; HF checkpoints use rotate_half.)
 *
 * <p>Parameters: one flat vector of length r + 2 f^2, f = headDim - r:
 * [a_0 .. a_{r/2-1}, phi_0 .. phi_{r/2-1}, polar parameters of the free block as [2, f, f] flattened].
 */
public final class RopeCommutingMap implements Parameterization {
    private final int headDim;
    private final int rotaryDim;
    private final int half;
    private final int free;
    private final PolarInvertible freeBlock;

    /**
     * @param headDim    head dimension
     * @param rotaryDim  number of rotary dims (even, at most headDim; 0 for no RoPE)
     */
    public RopeCommutingMap(int headDim, int rotaryDim) {
        if (headDim < 1 || rotaryDim < 0 || rotaryDim > headDim || rotaryDim % 2 != 0) {
            throw new IllegalArgumentException("RopeCommutingMap needs headDim >= 1 and an even rotaryDim in [0, headDim], got headDim "
                    + headDim + ", rotaryDim " + rotaryDim);
        }
        this.headDim = headDim;
        this.rotaryDim = rotaryDim;
        this.half = rotaryDim / 2;
        this.free = headDim - rotaryDim;
        this.freeBlock = free > 0 ? new PolarInvertible(free) : null;
    }

    public int headDim() {
        return headDim;
    }

    public int rotaryDim() {
        return rotaryDim;
    }

    @Override
    public Shape paramShape() {
        return new Shape(rotaryDim + 2L * free * free);
    }

    @Override
    public NDArray identityParams(NDManager manager) {
        return manager.zeros(paramShape(), DataType.FLOAT32);
    }

    /**
     * Per plane: log-scale a uniform in [-0.7, 0.7] (scales 0.5..2) and angle uniform in
     * [-pi, pi); free block: {@link PolarInvertible#randomParams} (condition number below 6).
     */
    @Override
    public NDArray randomParams(NDManager manager, Random rng) {
        double[] v = new double[(int) paramShape().get(0)];
        System.arraycopy(RandomParams.uniform(rng, half, -0.7, 0.7), 0, v, 0, half);
        System.arraycopy(RandomParams.uniform(rng, half, -Math.PI, Math.PI), 0, v, half, half);
        if (freeBlock != null) {
            double[] f = freeBlock.randomParams(manager, rng).toType(DataType.FLOAT64, false).toDoubleArray();
            System.arraycopy(f, 0, v, rotaryDim, f.length);
        }
        return manager.create(v, paramShape()).toType(DataType.FLOAT32, false);
    }

    /** A, applied to query rows: q_h <- A q_h. */
    @Override
    public NDArray materialize(NDArray params) {
        requireShape(params);
        NDArray freeMap = freeBlock == null ? null : freeBlock.materialize(freeParams(params));
        return assemble(params, 1, 1, freeMap);
    }

    /** A^{-1}. */
    @Override
    public NDArray materializeInverse(NDArray params) {
        requireShape(params);
        NDArray freeMap = freeBlock == null ? null : freeBlock.materializeInverse(freeParams(params));
        return assemble(params, -1, -1, freeMap);
    }

    /** A^{-T}, applied to key rows: k_h <- A^{-T} k_h. */
    @Override
    public NDArray materializeInverseTranspose(NDArray params) {
        requireShape(params);
        NDArray freeMap = freeBlock == null ? null : freeBlock.materializeInverseTranspose(freeParams(params));
        return assemble(params, -1, 1, freeMap);
    }

    /**
     * blockDiag(rotary block, free block), the rotary block having e^{scaleSign a_j} R(angleSign phi_j)
     * on plane j.
     */
    private NDArray assemble(NDArray params, int scaleSign, int angleSign, NDArray freeMap) {
        if (half == 0) {
            return freeMap;
        }
        NDArray a = params.get("0:" + half);
        NDArray phi = params.get(half + ":" + rotaryDim);
        NDArray rho = scaleSign > 0 ? a.exp() : a.neg().exp();
        NDArray c = MatrixFunctions.diag(rho.mul(phi.cos()));
        NDArray s = MatrixFunctions.diag(rho.mul(phi.sin()));
        if (angleSign < 0) {
            s = s.neg();
        }
        // rotate_half layout: x' = [x1 c - x2 s, x1 s + x2 c] for halves x1, x2.
        NDArray top = c.concat(s.neg(), 1);
        NDArray bottom = s.concat(c, 1);
        NDArray rotary = top.concat(bottom, 0);
        return freeMap == null ? rotary : MatrixFunctions.blockDiag(rotary, freeMap);
    }

    /** A of every row of params [G, r + 2 f^2], in a fixed number of batched operations. */
    @Override
    public NDArray materializeBatch(NDArray params) {
        requireBatchShape(params);
        NDArray freeMap = freeBlock == null ? null : freeBlock.materializeBatch(freeParamsBatch(params));
        return assembleBatch(params, 1, 1, freeMap);
    }

    /** A^{-1} of every row. */
    @Override
    public NDArray materializeInverseBatch(NDArray params) {
        requireBatchShape(params);
        NDArray freeMap = freeBlock == null ? null : freeBlock.materializeInverseBatch(freeParamsBatch(params));
        return assembleBatch(params, -1, -1, freeMap);
    }

    /** A^{-T} of every row. */
    @Override
    public NDArray materializeInverseTransposeBatch(NDArray params) {
        requireBatchShape(params);
        NDArray freeMap = freeBlock == null ? null
                : freeBlock.materializeInverseTransposeBatch(freeParamsBatch(params));
        return assembleBatch(params, -1, 1, freeMap);
    }

    /** A and A^{-T} of every row, the free block's pair computed together. */
    @Override
    public NDArray[] materializeWithInverseTransposeBatch(NDArray params) {
        requireBatchShape(params);
        NDArray[] free = freeBlock == null ? new NDArray[2]
                : freeBlock.materializeWithInverseTransposeBatch(freeParamsBatch(params));
        return new NDArray[] {assembleBatch(params, 1, 1, free[0]), assembleBatch(params, -1, 1, free[1])};
    }

    /** {@link #assemble} for a batch: [G, headDim, headDim]. */
    private NDArray assembleBatch(NDArray params, int scaleSign, int angleSign, NDArray freeMap) {
        if (half == 0) {
            return freeMap;
        }
        NDArray a = params.get(":, 0:" + half);
        NDArray phi = params.get(":, " + half + ":" + rotaryDim);
        NDArray rho = scaleSign > 0 ? a.exp() : a.neg().exp();
        NDArray c = MatrixFunctions.diagBatch(rho.mul(phi.cos()));
        NDArray s = MatrixFunctions.diagBatch(rho.mul(phi.sin()));
        if (angleSign < 0) {
            s = s.neg();
        }
        NDArray top = c.concat(s.neg(), 2);
        NDArray bottom = s.concat(c, 2);
        NDArray rotary = top.concat(bottom, 1);
        return freeMap == null ? rotary : MatrixFunctions.blockDiagBatch(rotary, freeMap);
    }

    private NDArray freeParamsBatch(NDArray params) {
        return params.get(":, " + rotaryDim + ":");
    }

    private void requireBatchShape(NDArray params) {
        Shape s = params.getShape();
        if (s.dimension() != 2 || s.get(1) != paramShape().get(0)) {
            throw new IllegalArgumentException("RopeCommutingMap(" + headDim + ", " + rotaryDim
                    + ") expects a batch of parameters [G, " + paramShape().get(0) + "], got " + s);
        }
    }

    /** Equal maps have equal head and rotary dims (lets the engine batch the slots of several layers together). */
    @Override
    public boolean equals(Object o) {
        return o instanceof RopeCommutingMap r && r.headDim == headDim && r.rotaryDim == rotaryDim;
    }

    @Override
    public int hashCode() {
        return headDim * 31 + rotaryDim;
    }

    private NDArray freeParams(NDArray params) {
        return params.get(rotaryDim + ":");
    }

    private void requireShape(NDArray params) {
        if (!params.getShape().equals(paramShape())) {
            throw new IllegalArgumentException("RopeCommutingMap(" + headDim + ", " + rotaryDim + ") expects parameters of shape "
                    + paramShape() + ", got " + params.getShape());
        }
    }
}
