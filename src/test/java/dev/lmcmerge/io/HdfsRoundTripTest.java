package dev.lmcmerge.io;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The round-trip contract on a real HDFS (one MiniDFSCluster for the class). */
class HdfsRoundTripTest extends RoundTripContract {
    private static MiniDFSCluster cluster;
    private static File baseDir;
    private static final AtomicInteger COUNTER = new AtomicInteger();

    @BeforeAll
    static void startCluster() throws IOException {
        baseDir = Files.createTempDirectory("lmc-io-hdfs").toFile();
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, baseDir.getAbsolutePath());
        cluster = new MiniDFSCluster.Builder(conf, baseDir).numDataNodes(1).build();
        cluster.waitActive();
    }

    @AfterAll
    static void stopCluster() throws IOException {
        if (cluster != null) {
            cluster.shutdown(true);
        }
        org.apache.hadoop.fs.FileUtil.fullyDelete(baseDir);
    }

    @Override
    Path newFolder() throws IOException {
        Path p = new Path(cluster.getURI().toString() + "/t" + COUNTER.incrementAndGet());
        cluster.getFileSystem().mkdirs(p);
        return p;
    }

    @Override
    Configuration conf() {
        return cluster.getConfiguration(0);
    }
}
