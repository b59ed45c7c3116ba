package dev.lmcmerge.dist;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark session of a job. Under {@code spark-submit} the master and every setting come from
 * the submission and are left alone; run with plain {@code java} ({@code bin/lmc}) there is no
 * master, and the job runs in local mode on every core ({@code local[*]}) without the web UI
 * and with Spark's log at WARN, unless {@code spark.ui.enabled} or {@code spark.log.level} say
 * otherwise.
 */
public final class SparkSessions {
    /** Master used when none is configured: in-process Spark on all cores. */
    public static final String LOCAL_MASTER = "local[*]";

    private SparkSessions() {}

    /** The active session, or a new one named {@code appName} with the defaults above. */
    public static SparkSession getOrCreate(String appName) {
        SparkConf conf = new SparkConf(); // reads spark.* system properties, as spark-submit sets them
        SparkSession.Builder b = SparkSession.builder().appName(appName);
        if (!conf.contains("spark.master")) {
            b.master(LOCAL_MASTER);
            // Local runs by default keep the loopback interface: no firewall prompts, no DNS surprises.
            if (System.getenv("SPARK_LOCAL_IP") == null && !conf.contains("spark.driver.host")) {
                b.config("spark.driver.host", "127.0.0.1");
                b.config("spark.driver.bindAddress", "127.0.0.1");
            }
            if (!conf.contains("spark.ui.enabled")) {
                b.config("spark.ui.enabled", "false");
            }
            // A local run's terminal shows lmc's progress, not Spark's INFO chatter.
            if (!conf.contains("spark.log.level")) {
                b.config("spark.log.level", "WARN");
            }
        }
        // One _SUCCESS per run (ours, written last), not one per Parquet table.
        b.config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false");
        // Tables are tiny; Spark's default of 200 shuffle partitions would only add empty files and tasks.
        if (!conf.contains("spark.sql.shuffle.partitions")) {
            b.config("spark.sql.shuffle.partitions", "4");
        }
        return b.getOrCreate();
    }
}
