package dev.lmcmerge.io;

import dev.lmcmerge.config.LmcException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Conversions between raw little-endian tensor bytes and {@code float}, including the 16-bit
 * formats. Written by hand because Java 17 has no float16 conversion ({@code Float.float16ToFloat}
 * arrived in Java 20) and the checkpoint path must not need a tensor engine.
 */
public final class TensorBytes {
    private TensorBytes() {}

    /** Largest element count a Java array can hold. */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    /**
     * Decodes {@code numel} elements of a floating dtype to float32 (F64 is narrowed, F16 and
     * BF16 are widened exactly).
     *
     * @param where file and tensor, for the message
     * @throws LmcException INVALID_INPUT for integer dtypes or tensors too large for one array
     */
    public static float[] toFloats(ByteBuffer bytes, DType dtype, long numel, String where) {
        if (!dtype.isFloating()) {
            throw LmcException.invalidInput(where, "dtype " + dtype.safetensorsName()
                    + " is an integer type; expected a floating type (F32, F16, BF16, F64) for a weight");
        }
        if (numel > MAX_ARRAY) {
            throw LmcException.invalidInput(where, numel + " elements do not fit one Java array; read it in chunks");
        }
        ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) numel;
        float[] out = new float[n];
        switch (dtype) {
            case F32 -> b.asFloatBuffer().get(out);
            case F64 -> {
                var d = b.asDoubleBuffer();
                for (int i = 0; i < n; i++) {
                    out[i] = (float) d.get(i);
                }
            }
            case F16 -> {
                var s = b.asShortBuffer();
                for (int i = 0; i < n; i++) {
                    out[i] = f16ToFloat(s.get(i));
                }
            }
            case BF16 -> {
                var s = b.asShortBuffer();
                for (int i = 0; i < n; i++) {
                    out[i] = bf16ToFloat(s.get(i));
                }
            }
            default -> throw new AssertionError(dtype);
        }
        return out;
    }

    /**
     * Widens elements {@code [from, from + count)} of little-endian floating-point {@code bytes}
     * to float32 into {@code dst} at its position (exactly for F16 and BF16): lets a loader
     * convert a tensor chunk by chunk into a reused off-heap buffer instead of a whole float[].
     */
    public static void decodeInto(ByteBuffer bytes, DType dtype, int from, int count, java.nio.FloatBuffer dst) {
        ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int to = from + count;
        switch (dtype) {
            case F32 -> {
                for (int i = from; i < to; i++) {
                    dst.put(b.getFloat(4 * i));
                }
            }
            case F64 -> {
                for (int i = from; i < to; i++) {
                    dst.put((float) b.getDouble(8 * i));
                }
            }
            case F16 -> {
                for (int i = from; i < to; i++) {
                    dst.put(f16ToFloat(b.getShort(2 * i)));
                }
            }
            case BF16 -> {
                for (int i = from; i < to; i++) {
                    dst.put(bf16ToFloat(b.getShort(2 * i)));
                }
            }
            default -> throw new IllegalArgumentException("cannot decode " + dtype + " as floats");
        }
    }

    /**
     * Encodes floats in a floating dtype, little-endian (F16 and BF16 round to nearest even).
     * The buffer is on the heap, positioned at 0.
     */
    public static ByteBuffer fromFloats(float[] values, DType dtype) {
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException("cannot encode floats as " + dtype);
        }
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(values.length, dtype.byteSize()))
                .order(ByteOrder.LITTLE_ENDIAN);
        encode(values, 0, values.length, dtype, b);
        b.position(0);
        return b;
    }

    /**
     * Encodes {@code values[from, from + count)} in a floating dtype into {@code dst} at its
     * position (little-endian; F16 and BF16 round to nearest even) and advances it: lets a writer
     * encode a large tensor chunk by chunk into one reused buffer.
     */
    public static void encode(float[] values, int from, int count, DType dtype, ByteBuffer dst) {
        ByteBuffer b = dst.order(ByteOrder.LITTLE_ENDIAN);
        int to = from + count;
        switch (dtype) {
            case F32 -> {
                b.asFloatBuffer().put(values, from, count);
                b.position(b.position() + 4 * count);
            }
            case F64 -> {
                for (int i = from; i < to; i++) {
                    b.putDouble(values[i]);
                }
            }
            case F16 -> {
                for (int i = from; i < to; i++) {
                    b.putShort(floatToF16(values[i]));
                }
            }
            case BF16 -> {
                for (int i = from; i < to; i++) {
                    b.putShort(floatToBf16(values[i]));
                }
            }
            default -> throw new IllegalArgumentException("cannot encode floats as " + dtype);
        }
    }

    /** Encodes longs as little-endian I64. */
    public static ByteBuffer fromLongs(long[] values) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(values.length, 8)).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return b;
    }

    /** IEEE 754 binary16 to float (exact). */
    public static float f16ToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0) {
            float v = mant * 0x1p-24f; // zero or subnormal: mant * 2^-24
            return sign != 0 ? -v : v;
        }
        if (exp == 31) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** Float to IEEE 754 binary16, round to nearest even; overflow gives infinity. */
    public static short floatToF16(float f) {
        int x = Float.floatToRawIntBits(f);
        int sign = (x >>> 16) & 0x8000;
        int exp = (x >>> 23) & 0xff;
        int mant = x & 0x7fffff;
        if (exp == 0xff) {
            return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
        }
        int e = exp - 127 + 15;
        if (e >= 31) {
            return (short) (sign | 0x7c00);
        }
        if (e <= 0) {
            if (e < -10) {
                return (short) sign;
            }
            mant |= 0x800000;
            int shift = 14 - e;
            int half = mant >>> shift;
            int rem = mant & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rem > halfway || (rem == halfway && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }
        int half = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) {
            half++; // a carry into the exponent is the correct rounding, up to infinity
        }
        return (short) (sign | half);
    }

    /** bfloat16 to float (exact). */
    public static float bf16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    /** Float to bfloat16, round to nearest even; NaN stays NaN. */
    public static short floatToBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7fffffff) > 0x7f800000) {
            return (short) ((x >>> 16) | 0x40);
        }
        int lsb = (x >>> 16) & 1;
        return (short) ((x + 0x7fff + lsb) >>> 16);
    }
}
