package dev.lmcmerge.dist;

import org.apache.spark.sql.SparkSession;

/** One local[2] Spark session per test JVM, shared by the dist tests (starting Spark takes seconds). */
final class LocalSpark {
    private static SparkSession session;

    private LocalSpark() {}

    static synchronized SparkSession get() {
        if (session == null || session.sparkContext().isStopped()) {
            session = SparkSession.builder().master("local[2,2]").appName("lmc-dist-test")
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "2")
                    .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
                    .getOrCreate();
        }
        return session;
    }
}
