package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.lmcmerge.config.JobConfig;
import dev.lmcmerge.model.ModelLoader;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The merge job with its models, data and outputs on HDFS (a MiniDFSCluster). */
class MergeJobHdfsTest {
    static MiniDFSCluster cluster;
    static File base;
    static String root;
    static FileSystem fs;
    static final SparkSession SPARK = LocalSpark.get();

    @BeforeAll
    static void start() throws IOException {
        base = Files.createTempDirectory("lmc-dist-hdfs").toFile();
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.getAbsolutePath());
        cluster = new MiniDFSCluster.Builder(conf, base).numDataNodes(1).build();
        cluster.waitActive();
        fs = cluster.getFileSystem();
        root = cluster.getURI().toString();
        Configuration c = cluster.getConfiguration(0);
        TinyCheckpoints.write(root + "/models/a", TinyCheckpoints.CONFIG, 31, c);
        TinyCheckpoints.write(root + "/models/b", TinyCheckpoints.CONFIG, 32, c);
        java.nio.file.Path text = base.toPath().resolve("text.txt");
        TinyCheckpoints.writeText(text, 3000);
        fs.copyFromLocalFile(new Path(text.toUri()), new Path(root + "/data/text.txt"));
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.shutdown(true);
        }
        org.apache.hadoop.fs.FileUtil.fullyDelete(base);
    }

    @Test
    void theWholeRunReadsAndWritesHdfs() throws IOException {
        JobConfig job = JobConfig.load(Optional.empty(), List.of(
                "model-a=" + root + "/models/a", "model-b=" + root + "/models/b", "data.eval=" + root + "/data/text.txt",
                "data.seq-len=16", "data.batch-size=4", "eval.alphas=3", "eval.max-batches=1",
                "align.methods=[naive, weight-matching]", "output.path=" + root + "/runs", "output.run-id=h1"));
        MergeJob.Outcome o = MergeJob.run(SPARK, job, new PrintWriter(new StringWriter(), true));
        assertTrue(o.folder().toString().startsWith("hdfs://"), o.folder().toString());
        Path run = new Path(root + "/runs/h1");
        for (String p : List.of("_SUCCESS", "curves", "barriers", "transforms", "report.html", "run.json",
                "merged/alpha=0.50/hf/config.json", "merged/alpha=0.50/hf/model.safetensors",
                "merged/alpha=0.50/parquet/part-00000.parquet")) {
            assertTrue(fs.exists(new Path(run, p)), p + " on HDFS");
        }
        assertFalse(fs.exists(new Path(root + "/runs/_staging")), "staging cleaned up");
        long success = fs.getFileStatus(new Path(run, "_SUCCESS")).getModificationTime();
        var files = fs.listFiles(run, true);
        while (files.hasNext()) {
            assertTrue(files.next().getModificationTime() <= success);
        }
        assertEquals(2 * 3, SPARK.read().parquet(new Path(run, "curves").toString()).count());
        try (NDManager m = NDManager.newBaseManager();
             ModelLoader.LoadedModel merged = ModelLoader.open(new Path(run, "merged/alpha=0.50/hf").toString(), m)) {
            assertEquals(2, merged.config().numLayers());
        }
    }
}
