package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.lmcmerge.config.ComputeConfig;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

/** What tasks get of the Hadoop settings: executors must see what the driver sees. */
class JobContextTest {
    @Test
    void sparkHadoopSettingsReachTheTasksWithoutTheirPrefix() {
        SparkConf conf = new SparkConf(false).set("spark.hadoop.dfs.replication", "2")
                .set("spark.hadoop.fs.s3a.endpoint", "http://minio:9000").set("spark.executor.cores", "4");
        Map<String, String> settings = JobContext.sparkHadoopSettings(conf);
        assertEquals(Map.of("dfs.replication", "2", "fs.s3a.endpoint", "http://minio:9000"), settings);
    }

    @Test
    void theTasksHadoopConfigurationAppliesTheShippedSettings() {
        JobContext ctx = new JobContext("file:/a", "file:/b", "CAYLEY", List.of("RESIDUAL"), ComputeConfig.Device.CPU, 0,
                0L, 0L, Map.of("dfs.replication", "2"), "run-1", JobContext.Forms.ALL);
        Configuration c = ctx.hadoopConf();
        assertEquals("2", c.get("dfs.replication"));
        assertNull(c.get("fs.s3a.endpoint.unset.key"));
    }
}
