package dev.lmcmerge.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.NpyArray;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Conversions between {@code .npy} arrays and DJL NDArrays (bytes copied once, no boxing). */
public final class NpyArrays {
    private NpyArrays() {
    }

    /** The array as an NDArray of the same dtype and shape in {@code manager}. */
    public static NDArray toNDArray(NpyArray a, NDManager manager) {
        DataType t = switch (a.dtype()) {
            case F64 -> DataType.FLOAT64;
            case F32 -> DataType.FLOAT32;
            case F16 -> DataType.FLOAT16;
            case BF16 -> DataType.BFLOAT16;
            case I64 -> DataType.INT64;
            case I32 -> DataType.INT32;
            case I16 -> DataType.INT16;
            case I8 -> DataType.INT8;
            case U8 -> DataType.UINT8;
            case BOOL -> DataType.BOOLEAN;
        };
        ByteBuffer direct = ByteBuffer.allocateDirect(a.data().remaining()).order(ByteOrder.nativeOrder());
        ByteBuffer src = a.data();
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalStateException("big-endian platforms are not supported");
        }
        direct.put(src).rewind();
        return manager.create(direct, new Shape(a.shape()), t);
    }

    /** A float32 / float64 / int32 / int64 NDArray as a {@code .npy} array. */
    public static NpyArray toNpy(NDArray x) {
        DType t = switch (x.getDataType()) {
            case FLOAT32 -> DType.F32;
            case FLOAT64 -> DType.F64;
            case INT32 -> DType.I32;
            case INT64 -> DType.I64;
            default -> throw new IllegalArgumentException("cannot write " + x.getDataType() + " to .npy");
        };
        ByteBuffer bytes = x.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return new NpyArray(t, x.getShape().getShape(), bytes);
    }
}
