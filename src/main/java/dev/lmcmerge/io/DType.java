package dev.lmcmerge.io;

import dev.lmcmerge.config.LmcException;

/**
 * Element types a checkpoint or array file may hold. Names follow safetensors ({@code "F32"},
 * {@code "BF16"}, ...). Floating types hold weights; integer types hold non-weights such as
 * position ids or token ids.
 */
public enum DType {
    F64(8, "F64", true),
    F32(4, "F32", true),
    F16(2, "F16", true),
    BF16(2, "BF16", true),
    I64(8, "I64", false),
    I32(4, "I32", false),
    I16(2, "I16", false),
    I8(1, "I8", false),
    U8(1, "U8", false),
    BOOL(1, "BOOL", false);

    private final int byteSize;
    private final String safetensorsName;
    private final boolean floating;

    DType(int byteSize, String safetensorsName, boolean floating) {
        this.byteSize = byteSize;
        this.safetensorsName = safetensorsName;
        this.floating = floating;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The dtype string used in a safetensors header. */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** True for F64, F32, F16 and BF16. */
    public boolean isFloating() {
        return floating;
    }

    /**
     * The dtype for a safetensors header string.
     *
     * @param where the file (and tensor) the string comes from, for the error message
     * @throws LmcException INVALID_INPUT if the dtype is not supported
     */
    public static DType fromSafetensors(String name, String where) {
        for (DType d : values()) {
            if (d.safetensorsName.equals(name)) {
                return d;
            }
        }
        throw LmcException.invalidInput(where, "unsupported dtype \"" + name
                + "\"; expected one of F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL");
    }
}
