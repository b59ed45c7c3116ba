package dev.lmcmerge.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Spark's Parquet tables on S3 with the settings {@code submit/*.sh --s3} passes: against a real
 * S3-compatible server on loopback, a DataFrame written to {@code s3a://} is committed by the S3A
 * magic committer (through spark-hadoop-cloud's PathOutputCommitProtocol, so no rename copies)
 * and reads back whole; and they are the settings Spark 4 picks by itself when spark-hadoop-cloud
 * is on the classpath, so {@code --s3} only matters where a cluster's defaults say otherwise.
 */
class S3SparkCommitTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final StructType BARRIERS = new StructType()
            .add("run_id", DataTypes.StringType, false)
            .add("method", DataTypes.StringType, false)
            .add("barrier", DataTypes.DoubleType, false);

    private static S3Server server;
    private static String bucket;
    private static SparkSession base;
    private static boolean ownSession;

    @BeforeAll
    static void start() throws Exception {
        server = S3Server.start();
        bucket = server.newBucket();
        ownSession = SparkSession.getDefaultSession().isEmpty();
        base = SparkSession.builder().master("local[2]").appName("lmc-ops-test")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
                .getOrCreate();
    }

    @AfterAll
    static void stop() throws Exception {
        if (ownSession && base != null) {
            base.stop();
        }
        if (server != null) {
            server.close();
        }
    }

    /** The Spark settings that {@code --s3} adds to a submission (those of yarn.sh with it, minus without it). */
    private static Map<String, String> s3SubmitSettings() throws Exception {
        Map<String, String> env = Map.of("LMC_DRY_RUN", "1");
        SubmitLine with = SubmitLine.parse(Commands.run(env, "bash", "submit/yarn.sh", "--s3", "x.conf").stdout());
        SubmitLine without = SubmitLine.parse(Commands.run(env, "bash", "submit/yarn.sh", "x.conf").stdout());
        Map<String, String> added = new LinkedHashMap<>(with.conf());
        added.keySet().removeAll(without.conf().keySet());
        assertFalse(added.isEmpty(), "--s3 adds no settings");
        return added;
    }

    /**
     * A session with {@code settings} as a submission would give them: {@code spark.hadoop.X}
     * becomes the Hadoop setting X (Spark copies session settings into each job's Hadoop
     * configuration), the rest are Spark SQL settings. Plus the test server's endpoint and keys.
     */
    private static SparkSession sessionWith(Map<String, String> settings) {
        SparkSession s = base.newSession();
        settings.forEach((k, v) -> s.conf().set(k.startsWith("spark.hadoop.") ? k.substring("spark.hadoop.".length()) : k, v));
        server.s3aSettings().forEach((k, v) -> s.conf().set(k, v));
        return s;
    }

    private static Dataset<Row> barriers(SparkSession s) {
        List<Row> rows = new ArrayList<>();
        rows.add(RowFactory.create("r1", "naive", 0.8));
        rows.add(RowFactory.create("r1", "weight-matching", 0.2));
        rows.add(RowFactory.create("r1", "dual", 0.05));
        return s.createDataFrame(rows, BARRIERS).repartition(2);
    }

    private static JsonNode successManifest(Path table) throws Exception {
        Configuration conf = server.hadoopConf();
        FileSystem fs = table.getFileSystem(conf);
        try (InputStream in = fs.open(new Path(table, "_SUCCESS"))) {
            return JSON.readTree(in);
        }
    }

    @Test
    void withTheS3SettingsTheMagicCommitterCommitsTheTableAndItReadsBackWhole() throws Exception {
        SparkSession s = sessionWith(s3SubmitSettings());
        Path table = new Path("s3a://" + bucket + "/runs/r1/barriers");

        // The S3A committers write a JSON manifest as _SUCCESS when asked to; the job itself turns
        // success markers off (its own _SUCCESS is the run's), so this test turns it on to look.
        barriers(s).write().mode(SaveMode.ErrorIfExists)
                .option("mapreduce.fileoutputcommitter.marksuccessfuljobs", "true")
                .parquet(table.toString());

        JsonNode manifest = successManifest(table);
        assertEquals("magic", manifest.path("committer").asText(), manifest.toString());
        assertEquals(2, manifest.path("filenames").size(), manifest.toString());

        List<Row> back = s.read().parquet(table.toString()).orderBy("barrier").collectAsList();
        assertEquals(List.of(RowFactory.create("r1", "dual", 0.05), RowFactory.create("r1", "weight-matching", 0.2),
                RowFactory.create("r1", "naive", 0.8)), back);

        FileSystem fs = table.getFileSystem(server.hadoopConf());
        for (FileStatus st : fs.listStatus(table)) {
            String name = st.getPath().getName();
            assertFalse(name.startsWith("__magic") || name.startsWith("_temporary"), "left behind: " + name);
        }
    }

    @Test
    void sparkTurnsTheSameSettingsOnByItselfBecauseTheAppJarCarriesSparkHadoopCloud() throws Exception {
        // Spark 4's SparkContext fills in the magic committer settings that are missing when
        // spark-hadoop-cloud's classes can be loaded, as they can from the app jar (and here).
        Map<String, String> context = new LinkedHashMap<>();
        for (scala.Tuple2<String, String> kv : base.sparkContext().conf().getAll()) {
            context.put(kv._1(), kv._2());
        }
        s3SubmitSettings().forEach((k, v) -> assertEquals(v, context.get(k), k));
    }
}
