package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultTablesTest {
    @TempDir
    Path tmp;

    private final SparkSession spark = LocalSpark.get();

    private org.apache.hadoop.fs.Path dir(String name) {
        return new org.apache.hadoop.fs.Path(tmp.resolve(name).toUri());
    }

    @Test
    void curvesReadBackWithTheDocumentedSchema() {
        new ResultTables(spark).writeCurves(List.of(
                new ResultRows.Curve("r", "naive", 0.0, "eval", 3.5, Math.exp(3.5), null, 16, 2032),
                new ResultRows.Curve("r", "naive", 1.0, "eval", 3.6, Math.exp(3.6), null, 16, 2032)), dir("curves"));
        Dataset<Row> df = spark.read().parquet(dir("curves").toString());
        assertEquals(names(ResultTables.CURVES), List.of(df.schema().fieldNames()));
        assertEquals(DataTypes.DoubleType, df.schema().apply("alpha").dataType());
        assertEquals(DataTypes.LongType, df.schema().apply("n_tokens").dataType());
        Row r = df.orderBy("alpha").first();
        assertEquals("naive", r.getAs("method"));
        assertEquals(3.5, (double) r.getAs("loss"));
        assertNull(r.getAs("accuracy"));
        assertEquals(2032L, (long) r.getAs("n_tokens"));
    }

    @Test
    void barriersReadBackWithTheDocumentedSchema() {
        new ResultTables(spark).writeBarriers(List.of(new ResultRows.Barrier("r", "dual", 0.1, 0.03, 0.5, 3.4, 3.5)),
                dir("barriers"));
        Dataset<Row> df = spark.read().parquet(dir("barriers").toString());
        assertEquals(names(ResultTables.BARRIERS), List.of(df.schema().fieldNames()));
        assertEquals(0.03, (double) df.first().getAs("barrier_rel"));
    }

    @Test
    void transformsArePartitionedByMethodAndKeepShapesAndValues() throws Exception {
        float[] values = {1f, -2.5f, 1e-7f, 3f};
        new ResultTables(spark).writeTransforms(List.of(
                new ResultRows.Transform("r", "dual", "b", "residual", -1, "residual_rotation", new int[] {1, 2, 2}, values),
                new ResultRows.Transform("r", "weight-matching", "b", "ffn.0", 0, "ffn_permutation", new int[] {1, 4},
                        new float[] {3, 2, 1, 0})), dir("transforms"));
        try (Stream<Path> s = Files.list(tmp.resolve("transforms"))) {
            assertEquals(List.of("method=dual", "method=weight-matching"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        Dataset<Row> file = spark.read().parquet(tmp.resolve("transforms/method=dual").toString());
        assertEquals(names(ResultTables.TRANSFORMS), List.of(file.schema().fieldNames()),
                "each file has exactly the documented columns");
        assertEquals(DataTypes.FloatType, ((ArrayType) file.schema().apply("values").dataType()).elementType());
        assertEquals(DataTypes.IntegerType, ((ArrayType) file.schema().apply("shape").dataType()).elementType());
        Row r = file.first();
        assertEquals(List.of(1, 2, 2), r.getList(r.fieldIndex("shape")));
        List<Float> got = r.getList(r.fieldIndex("values"));
        float[] back = new float[got.size()];
        for (int i = 0; i < back.length; i++) {
            back[i] = got.get(i);
        }
        assertArrayEquals(values, back);
        Dataset<Row> all = spark.read().parquet(dir("transforms").toString());
        assertTrue(List.of(all.schema().fieldNames()).contains("method"));
        assertEquals(1, all.filter("method = 'weight-matching'").count());
    }

    private static List<String> names(StructType t) {
        return List.of(t.fieldNames());
    }
}
