package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.TensorBytes;
import dev.lmcmerge.io.TensorInfo;
import dev.lmcmerge.io.TensorSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Merged tensors as Parquet rows: chunks in order rebuild the safetensors bytes; one row group per chunk. */
class ParquetTensorsTest {
    @TempDir
    Path tmp;

    @Test
    void aLocalFileIsWrittenRawWithoutACrcSideFile() throws IOException {
        Path part = tmp.resolve("part-00000.parquet");
        ParquetTensors.write(new org.apache.hadoop.fs.Path(part.toUri()), new Configuration(),
                List.of(TensorSource.ofFloats("w", new long[] {2}, new float[] {1, 2}, DType.F32)));

        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(tmp)) {
            assertEquals(List.of("part-00000.parquet"), files.map(f -> f.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void chunksInOrderRebuildEachTensorAndEachChunkIsItsOwnRowGroup() throws IOException {
        float[] w = new float[10];
        for (int i = 0; i < w.length; i++) {
            w[i] = i * 0.5f - 1;
        }
        List<TensorSource> tensors = List.of(
                TensorSource.ofFloats("w", new long[] {2, 5}, w, DType.F32),
                TensorSource.ofFloats("b", new long[] {3}, new float[] {1, 2, 3}, DType.BF16));
        org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(tmp.resolve("part-00000.parquet").toUri());
        Configuration conf = new Configuration();
        long bytes = ParquetTensors.write(file, conf, tensors, 16);
        assertEquals(40 + 6, bytes);

        List<Group> rows = new ArrayList<>();
        try (ParquetReader<Group> r = ParquetReader.builder(new GroupReadSupport(), file).withConf(conf).build()) {
            for (Group g = r.read(); g != null; g = r.read()) {
                rows.add(g);
            }
        }
        assertEquals(3 + 1, rows.size(), "40 bytes in chunks of 16 -> 3 rows; 6 bytes -> 1 row");
        ByteArrayOutputStream rebuilt = new ByteArrayOutputStream();
        for (int i = 0; i < 3; i++) {
            Group g = rows.get(i);
            assertEquals("w", g.getString("name", 0));
            assertEquals(i, g.getInteger("chunk", 0));
            assertEquals("F32", g.getString("dtype", 0));
            Group shape = g.getGroup("shape", 0);
            assertEquals(2, shape.getFieldRepetitionCount("list"));
            assertEquals(5L, shape.getGroup("list", 1).getLong("element", 0));
            rebuilt.write(g.getBinary("data", 0).getBytes());
        }
        assertArrayEquals(TensorBytes.fromFloats(w, DType.F32).array(), rebuilt.toByteArray());
        assertEquals("BF16", rows.get(3).getString("dtype", 0));
        try (ParquetFileReader f = ParquetFileReader.open(HadoopInputFile.fromPath(file, conf))) {
            assertEquals(4, f.getRowGroups().size(), "one row group per chunk");
        }
    }

    @Test
    void folderNamesKeepTwoDecimalsAndExactValues() {
        assertEquals("alpha=0.50", MergedCheckpointJob.folderName(0.5));
        assertEquals("alpha=1.00", MergedCheckpointJob.folderName(1));
        assertEquals("alpha=0.125", MergedCheckpointJob.folderName(0.125));
    }

    @Test
    void tensorRangesHaveAboutEqualBytesAndKeepModelOrder() {
        List<TensorInfo> t = List.of(TensorInfo.of("e", DType.F32, new long[] {100}),
                TensorInfo.of("l0", DType.F32, new long[] {50}), TensorInfo.of("l1", DType.F32, new long[] {50}),
                TensorInfo.of("h", DType.F32, new long[] {100}));
        assertEquals(List.of(List.of("e"), List.of("l0", "l1"), List.of("h")), MergedCheckpointJob.byteRanges(t, 3));
        assertEquals(List.of(List.of("e", "l0", "l1", "h")), MergedCheckpointJob.byteRanges(t, 1));
    }
}
