package dev.lmcmerge.data;

import dev.lmcmerge.config.LmcException;
import java.util.Locale;

/**
 * The kind of file a token dataset is read from. {@link #infer} picks it from the path;
 * {@code --format} (or {@code data.format}) forces it. Image datasets are always Parquet and are
 * chosen by the model (ViT), not by this enum.
 */
public enum DataFormat {
    /** Parquet file or folder of part files with an {@code input_ids} list column. */
    PARQUET,
    /** NumPy {@code .npy} int32/int64 array [N, T]: each row is one sequence. */
    NPY,
    /** UTF-8 text (optionally {@code .gz}), tokenized by a {@code tokenizer.json} or as bytes. */
    TEXT;

    /**
     * The format a path implies: {@code .parquet} or a folder is Parquet, {@code .npy} is NumPy,
     * anything else is text.
     *
     * @param isDirectory whether the location is a folder (a folder of Parquet part files)
     */
    public static DataFormat infer(String location, boolean isDirectory) {
        String name = location.toLowerCase(Locale.ROOT);
        while (name.endsWith("/")) {
            name = name.substring(0, name.length() - 1);
        }
        if (isDirectory || name.endsWith(".parquet") || name.endsWith(".parq")) {
            return PARQUET;
        }
        if (name.endsWith(".npy")) {
            return NPY;
        }
        return TEXT;
    }

    /**
     * The format named {@code value} ({@code parquet}, {@code npy}, {@code text}; case-insensitive).
     *
     * @param key the flag or configuration key the value came from, for the error message
     * @throws LmcException USAGE if the name is unknown
     */
    public static DataFormat parse(String value, String key) {
        for (DataFormat f : values()) {
            if (f.name().equalsIgnoreCase(value.trim())) {
                return f;
            }
        }
        throw LmcException.usage(key, "unknown data format '" + value + "'; expected parquet, npy or text");
    }

    /** The lower-case name used on the command line. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
