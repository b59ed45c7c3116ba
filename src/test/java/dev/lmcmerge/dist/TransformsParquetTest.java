package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TransformsParquetTest {
    @TempDir
    Path tmp;

    private final SparkSession spark = LocalSpark.get();

    @Test
    void emptyShapeAndValuesReadBackAsEmptyArrays() {
        Path file = tmp.resolve("t.parquet");
        TransformsParquet.write(new org.apache.hadoop.fs.Path(file.toUri()), new Configuration(), List.of(
                new ResultRows.Transform("r", "dual", "a", "none", -1, "kind", new int[0], new float[0]),
                new ResultRows.Transform("r", "dual", "b", "ffn.1", 1, "ffn_permutation", new int[] {1, 2},
                        new float[] {1, 0})));
        List<Row> rows = spark.read().parquet(file.toString()).orderBy("model").collectAsList();
        assertEquals(List.of(), rows.get(0).getList(rows.get(0).fieldIndex("values")));
        assertEquals(List.of(), rows.get(0).getList(rows.get(0).fieldIndex("shape")));
        assertEquals(List.of(1f, 0f), rows.get(1).getList(rows.get(1).fieldIndex("values")));
        assertEquals(1, (int) rows.get(1).getAs("layer"));
    }

    @Test
    void aLocalFileIsWrittenRawWithoutACrcSideFile() throws Exception {
        Path dir = tmp.resolve("method=dual");
        java.nio.file.Files.createDirectories(dir);
        TransformsParquet.write(new org.apache.hadoop.fs.Path(dir.resolve("part-00000.parquet").toUri()), new Configuration(),
                List.of(new ResultRows.Transform("r", "dual", "a", "none", -1, "kind", new int[0], new float[0])));

        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(dir)) {
            assertEquals(List.of("part-00000.parquet"), files.map(f -> f.getFileName().toString()).toList());
        }
    }

    @Test
    void aTableLargerThanHalfTheHeapIsWrittenWithoutBoxingItsValues() throws Exception {
        // 8 rows of 2M floats: 64 MB of arrays. Boxed (as a DataFrame of them would be) they take
        // about 320 MB, more than the child's whole heap.
        Path file = tmp.resolve("big.parquet");
        Path log = tmp.resolve("child.log");
        Process p = ChildJvm.start("192m", Map.of(), Map.of(), log, Child.class.getName(),
                List.of(file.toString(), "8", Integer.toString(2 << 20)));
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child timed out");
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        List<Row> rows = spark.read().parquet(file.toString()).orderBy("layer").collectAsList();
        assertEquals(8, rows.size());
        for (Row r : rows) {
            int layer = r.getAs("layer");
            List<Float> v = r.getList(r.fieldIndex("values"));
            assertEquals(2 << 20, v.size());
            assertEquals(Child.value(layer, 0), v.get(0));
            assertEquals(Child.value(layer, v.size() - 1), v.get(v.size() - 1));
        }
    }

    /** Writes ROWS rows of N floats each to FILE (run in a child JVM with a small heap). */
    public static final class Child {
        static float value(int row, int i) {
            return row + i * 1e-3f;
        }

        public static void main(String[] args) {
            int rows = Integer.parseInt(args[1]);
            int n = Integer.parseInt(args[2]);
            List<ResultRows.Transform> out = new ArrayList<>();
            for (int r = 0; r < rows; r++) {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    v[i] = value(r, i);
                }
                out.add(new ResultRows.Transform("run", "dual", "b", "qk." + r, r, "qk", new int[] {1, n}, v));
            }
            TransformsParquet.write(new org.apache.hadoop.fs.Path(Path.of(args[0]).toUri()), new Configuration(), out);
        }
    }
}
