package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.lmcmerge.config.JobConfig;
import dev.lmcmerge.model.ModelLoader;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.hdfs.protocol.DatanodeInfo;
import org.apache.hadoop.hdfs.protocol.LocatedBlock;
import org.apache.hadoop.hdfs.server.datanode.DataNode;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * On HDFS with three datanodes and replication two, a datanode stopped while the merged
 * checkpoint is being written leaves a complete, readable checkpoint, identical to that of a run
 * without the fault. Blocks are 8 KiB, so a merged file of the tiny models spans several blocks
 * and its write pipeline is live mid-file; the datanode stopped is one of the pipeline of the
 * block being written, from a writing task, between two tensors of the file
 * ({@link FaultInjection} site {@code merged-tensor}). The namenode still believes the stopped
 * datanode alive (heartbeats take minutes to expire), so later blocks may be placed on it too,
 * and readers are offered its replicas first: the client must route around it both ways.
 */
class HdfsDatanodeLossTest {
    static final SparkSession SPARK = LocalSpark.get();
    static final int BLOCK = 8192;
    static MiniDFSCluster cluster;
    static DistributedFileSystem fs;
    static File base;
    static String root;

    @BeforeAll
    static void start() throws IOException {
        base = Files.createTempDirectory("lmc-dist-dnloss").toFile();
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.getAbsolutePath());
        conf.setInt("dfs.replication", 2);
        conf.setLong("dfs.namenode.fs-limits.min-block-size", 0);
        conf.setLong("dfs.blocksize", BLOCK);
        cluster = new MiniDFSCluster.Builder(conf, base).numDataNodes(3).build();
        cluster.waitActive();
        // The first client of this namenode fixes dfs.replication and dfs.blocksize for every later
        // FileSystem.get of it in this JVM (the cache is keyed by URI and user), the job's tasks included.
        fs = cluster.getFileSystem();
        root = cluster.getURI().toString();
        Configuration c = cluster.getConfiguration(0);
        TinyCheckpoints.write(root + "/models/a", TinyCheckpoints.CONFIG, 51, c);
        TinyCheckpoints.write(root + "/models/b", TinyCheckpoints.CONFIG, 52, c);
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

    @AfterEach
    void disarm() {
        FaultInjection.reset();
    }

    static MergeJob.Outcome run(String runId) {
        JobConfig job = JobConfig.load(Optional.empty(), List.of(
                "model-a=" + root + "/models/a", "model-b=" + root + "/models/b",
                "data.eval=" + root + "/data/text.txt", "data.seq-len=16", "data.batch-size=4", "eval.alphas=3",
                "eval.max-batches=1", "align.methods=[weight-matching]", "output.shard-size=24576",
                "output.path=" + root + "/runs", "output.run-id=" + runId));
        return MergeJob.run(SPARK, job, new PrintWriter(new StringWriter(), true));
    }

    /** What the fault saw when it struck. */
    static final class Fault {
        String openFile;
        boolean successExisted;
        String stoppedDatanode;
        int stops;
    }

    @Test
    void aDatanodeStoppedWhileTheMergedCheckpointIsWrittenLeavesACompleteReadableCheckpoint() throws Exception {
        run("steady");
        Path merged = new Path("merged/" + MergedCheckpointJob.folderName(0.5));

        Fault fault = new Fault();
        FaultInjection.onReach("merged-tensor", () -> stopADatanodeOfAnOpenFile("lossy", merged, fault));
        run("lossy");

        assertEquals(1, fault.stops, "one datanode was stopped");
        assertNotNull(fault.openFile, "of the pipeline of a file of the merged checkpoint being written");
        assertFalse(fault.successExisted, "before the run's _SUCCESS existed");
        assertEquals(2, cluster.getDataNodes().size(), "the datanode stayed down: " + fault.stoppedDatanode);

        Path steady = new Path(root + "/runs/steady", merged);
        Path lossy = new Path(root + "/runs/lossy", merged);
        assertTrue(fs.exists(new Path(root + "/runs/lossy/_SUCCESS")));
        assertTrue(fs.listStatus(new Path(lossy, "hf"), p -> p.getName().endsWith(".safetensors")).length > 1,
                "a sharded model");
        RunOutputs.assertSameMergedCheckpoint(SPARK, steady.toString(), lossy.toString());
        assertEquals(2, fs.getFileStatus(new Path(lossy, fault.openFile)).getReplication(),
                "written with replication 2");
        try (NDManager m = NDManager.newBaseManager();
             ModelLoader.LoadedModel model = ModelLoader.open(new Path(lossy, "hf").toString(), m)) {
            assertEquals(2, model.config().numLayers(), "the merged checkpoint loads");
        }
    }

    /**
     * The fault, run by the writing tasks before each tensor: once a file of the run's merged
     * checkpoint ({@code hf/} shard or {@code parquet/} part) is open and its block being written
     * has a pipeline, stop a datanode of that pipeline.
     */
    static void stopADatanodeOfAnOpenFile(String runId, Path merged, Fault fault) {
        synchronized (fault) {
            if (fault.stops > 0) {
                return;
            }
            try {
                Path folder = null;
                for (FileStatus s : fs.listStatus(new Path(root + "/runs/_staging"))) {
                    if (s.getPath().getName().startsWith(runId + "-")) {
                        folder = new Path(s.getPath(), merged);
                    }
                }
                for (String form : List.of("hf", "parquet")) {
                    Path dir = folder == null ? null : new Path(folder, form);
                    if (dir == null || !fs.exists(dir)) {
                        continue;
                    }
                    for (FileStatus s : fs.listStatus(dir)) {
                        Path p = s.getPath();
                        if (fs.isFileClosed(p)) {
                            continue;
                        }
                        LocatedBlock writing = fs.getClient().getLocatedBlocks(p.toUri().getPath(), 0)
                                .getLastLocatedBlock();
                        if (writing == null || writing.getLocations().length == 0) {
                            continue;
                        }
                        DatanodeInfo target = writing.getLocations()[0];
                        List<DataNode> nodes = new ArrayList<>(cluster.getDataNodes());
                        for (int i = 0; i < nodes.size(); i++) {
                            if (nodes.get(i).getXferPort() == target.getXferPort()) {
                                fault.openFile = form + "/" + p.getName();
                                fault.successExisted = fs.exists(new Path(root + "/runs/" + runId + "/_SUCCESS"));
                                fault.stoppedDatanode = target.getXferAddr();
                                cluster.stopDataNode(i);
                                fault.stops++;
                                return;
                            }
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
