package dev.lmcmerge.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Lets tests outside this package write image Parquet files like the data tests do. */
public final class TestImages {
    private TestImages() {}

    /** Rows of {@code image} struct{bytes, path} and {@code label}. */
    public static void write(Path file, List<byte[]> images, long[] labels) throws IOException {
        TestParquet.writeImages(file, images, labels, true);
    }
}
