package dev.lmcmerge.dist;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.catalog.ExternalCatalogUtils;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The result tables of a run as Spark DataFrames written to Parquet, with the schemas of
 * DESIGN.md section 7 (documented for users in docs/outputs.md):
 *
 * <pre>
 * curves/     run_id, method, alpha, split, loss, perplexity, accuracy, n_examples, n_tokens
 * barriers/   run_id, method, barrier, barrier_rel, argmax_alpha, loss_a, loss_b
 * transforms/ run_id, model, slot, layer, kind, shape, values   (one folder per method: method=NAME/)
 * </pre>
 *
 * Transforms are partitioned hive-style by method, so each file has exactly the documented
 * columns and a reader of the folder gets {@code method} as a column; their files are written
 * by the driver with parquet-hadoop ({@link TransformsParquet}) in the schema Spark would write.
 */
public final class ResultTables {
    /** Schema of {@code curves/}. {@code accuracy} is null for language models. */
    public static final StructType CURVES = new StructType(new StructField[] {
        DataTypes.createStructField("run_id", DataTypes.StringType, false),
        DataTypes.createStructField("method", DataTypes.StringType, false),
        DataTypes.createStructField("alpha", DataTypes.DoubleType, false),
        DataTypes.createStructField("split", DataTypes.StringType, false),
        DataTypes.createStructField("loss", DataTypes.DoubleType, false),
        DataTypes.createStructField("perplexity", DataTypes.DoubleType, false),
        DataTypes.createStructField("accuracy", DataTypes.DoubleType, true),
        DataTypes.createStructField("n_examples", DataTypes.LongType, false),
        DataTypes.createStructField("n_tokens", DataTypes.LongType, false)});

    /** Schema of {@code barriers/}. */
    public static final StructType BARRIERS = new StructType(new StructField[] {
        DataTypes.createStructField("run_id", DataTypes.StringType, false),
        DataTypes.createStructField("method", DataTypes.StringType, false),
        DataTypes.createStructField("barrier", DataTypes.DoubleType, false),
        DataTypes.createStructField("barrier_rel", DataTypes.DoubleType, false),
        DataTypes.createStructField("argmax_alpha", DataTypes.DoubleType, false),
        DataTypes.createStructField("loss_a", DataTypes.DoubleType, false),
        DataTypes.createStructField("loss_b", DataTypes.DoubleType, false)});

    /** Schema of the files under {@code transforms/method=NAME/}. */
    public static final StructType TRANSFORMS = new StructType(new StructField[] {
        DataTypes.createStructField("run_id", DataTypes.StringType, false),
        DataTypes.createStructField("model", DataTypes.StringType, false),
        DataTypes.createStructField("slot", DataTypes.StringType, false),
        DataTypes.createStructField("layer", DataTypes.IntegerType, false),
        DataTypes.createStructField("kind", DataTypes.StringType, false),
        DataTypes.createStructField("shape", DataTypes.createArrayType(DataTypes.IntegerType, false), false),
        DataTypes.createStructField("values", DataTypes.createArrayType(DataTypes.FloatType, false), false)});

    /** Partition column of {@code transforms/}. */
    public static final String METHOD_PARTITION = "method";

    private final SparkSession spark;

    public ResultTables(SparkSession spark) {
        this.spark = spark;
    }

    /** Writes {@code curves/} into {@code dir}. */
    public void writeCurves(List<ResultRows.Curve> rows, Path dir) {
        List<Row> out = new ArrayList<>(rows.size());
        for (ResultRows.Curve c : rows) {
            out.add(RowFactory.create(c.runId(), c.method(), c.alpha(), c.split(), c.loss(), c.perplexity(),
                    c.accuracy(), c.nExamples(), c.nTokens()));
        }
        write(spark.createDataFrame(out, CURVES), dir);
    }

    /** Writes {@code barriers/} into {@code dir}. */
    public void writeBarriers(List<ResultRows.Barrier> rows, Path dir) {
        List<Row> out = new ArrayList<>(rows.size());
        for (ResultRows.Barrier b : rows) {
            out.add(RowFactory.create(b.runId(), b.method(), b.barrier(), b.barrierRel(), b.argmaxAlpha(),
                    b.lossA(), b.lossB()));
        }
        write(spark.createDataFrame(out, BARRIERS), dir);
    }

    /**
     * Writes {@code transforms/} into {@code dir}, one {@code method=NAME} folder per method, each
     * with one file written by the driver ({@link TransformsParquet}: the rows hold the transforms'
     * full parameter arrays, hundreds of MB at a billion parameters, which a DataFrame would box and
     * ship in one task).
     */
    public void writeTransforms(List<ResultRows.Transform> rows, Path dir) {
        Map<String, List<ResultRows.Transform>> byMethod = new LinkedHashMap<>();
        for (ResultRows.Transform t : rows) {
            byMethod.computeIfAbsent(t.method(), k -> new ArrayList<>()).add(t);
        }
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        byMethod.forEach((method, list) -> TransformsParquet.write(new Path(new Path(dir,
                METHOD_PARTITION + "=" + ExternalCatalogUtils.escapePathName(method)), "part-00000.parquet"), conf, list));
    }

    private static void write(Dataset<Row> df, Path dir) {
        df.coalesce(1).write().mode(SaveMode.ErrorIfExists)
                .option("mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
                .parquet(dir.toString());
    }
}
