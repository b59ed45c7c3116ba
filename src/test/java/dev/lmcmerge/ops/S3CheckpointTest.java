package dev.lmcmerge.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.io.HfCheckpointWriter;
import dev.lmcmerge.io.TensorSource;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checkpoints on S3 through {@code s3a://} (hadoop-aws), against a real S3-compatible server on
 * loopback: what the io package writes there reads back bit for bit, object-store writes leave no
 * temporary objects behind, and wrong credentials fail without the secret showing up in the error.
 */
class S3CheckpointTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static S3Server server;
    private static String bucket;

    @BeforeAll
    static void startServer() throws Exception {
        server = S3Server.start();
        bucket = server.newBucket();
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private static float[] values(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private static List<TensorSource> tinyModel() {
        List<TensorSource> t = new ArrayList<>();
        t.add(TensorSource.ofFloats("embed.weight", new long[] {16, 8}, values(128, 1), DType.F32));
        t.add(TensorSource.ofFloats("layers.0.mlp.weight", new long[] {32, 8}, values(256, 2), DType.F32));
        t.add(TensorSource.ofFloats("layers.0.mlp.bias", new long[] {32}, values(32, 3), DType.F32));
        t.add(TensorSource.ofFloats("head.weight", new long[] {16, 8}, values(128, 4), DType.F32));
        return t;
    }

    private static JsonNode config() throws IOException {
        return JSON.readTree("{\"model_type\":\"gpt_neox\",\"num_hidden_layers\":1,\"hidden_size\":8}");
    }

    private static List<String> objectsUnder(Path p, Configuration conf) throws IOException {
        FileSystem fs = p.getFileSystem(conf);
        List<String> out = new ArrayList<>();
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(p, true);
        while (it.hasNext()) {
            out.add(it.next().getPath().toString().substring(p.toString().length() + 1));
        }
        return out;
    }

    @Test
    void aShardedCheckpointWrittenToS3aReadsBackBitForBit() throws IOException {
        Configuration conf = server.hadoopConf();
        String folder = "s3a://" + bucket + "/models/sharded";
        // 1 KB shards: the 4 tensors (512, 1024, 128, 512 bytes) need three files and an index.
        HfCheckpointWriter.to(folder, conf).maxShardBytes(1024).write(config(), tinyModel());

        try (HfCheckpoint ck = HfCheckpoint.open(folder, conf)) {
            assertEquals(3, ck.shards().size(), "shards: " + ck.shards());
            assertEquals("gpt_neox", ck.config().get("model_type").asText());
            assertArrayEquals(values(128, 1), ck.readFloat32("embed.weight"));
            assertArrayEquals(values(256, 2), ck.readFloat32("layers.0.mlp.weight"));
            assertArrayEquals(values(32, 3), ck.readFloat32("layers.0.mlp.bias"));
            assertArrayEquals(values(128, 4), ck.readFloat32("head.weight"));
            assertArrayEquals(new long[] {32, 8}, ck.tensors().get("layers.0.mlp.weight").shape());
        }
    }

    @Test
    void writingToS3aLeavesOnlyTheFolderItselfNoStagingObjects() throws IOException {
        Configuration conf = server.hadoopConf();
        Path root = new Path("s3a://" + bucket + "/only-this");
        HfCheckpointWriter.to(root + "/model", conf).write(config(), tinyModel());

        assertEquals(new TreeSet<>(List.of("model/config.json", "model/model.safetensors")),
                new TreeSet<>(objectsUnder(root, conf)));
    }

    @Test
    void anExistingS3FolderIsReplacedOnlyWhenOverwriteIsAsked() throws IOException {
        Configuration conf = server.hadoopConf();
        String folder = "s3a://" + bucket + "/models/twice";
        HfCheckpointWriter.to(folder, conf).write(config(), tinyModel());

        LmcException refused = assertThrows(LmcException.class,
                () -> HfCheckpointWriter.to(folder, conf).write(config(), tinyModel()));
        assertTrue(refused.getMessage().contains(folder), refused.getMessage());

        List<TensorSource> other = List.of(
                TensorSource.ofFloats("embed.weight", new long[] {2, 2}, new float[] {1, 2, 3, 4}, DType.F32));
        HfCheckpointWriter.to(folder, conf).overwrite(true).write(config(), other);
        try (HfCheckpoint ck = HfCheckpoint.open(folder, conf)) {
            assertEquals(1, ck.tensors().size());
            assertArrayEquals(new float[] {1, 2, 3, 4}, ck.readFloat32("embed.weight"));
        }
    }

    @Test
    void wrongCredentialsFailWithAnErrorThatNamesThePathButNotTheSecret() throws IOException {
        Configuration good = server.hadoopConf();
        String folder = "s3a://" + bucket + "/models/guarded";
        HfCheckpointWriter.to(folder, good).write(config(), tinyModel());

        Configuration bad = server.hadoopConf();
        String wrongSecret = "wrong-" + S3Server.SECRET_KEY;
        bad.set("fs.s3a.secret.key", wrongSecret);
        // A client cached for the good key would hide the wrong one.
        bad.setBoolean("fs.s3a.impl.disable.cache", true);

        LmcException e = assertThrows(LmcException.class, () -> HfCheckpoint.open(folder, bad).close());
        String shown = e.getMessage() + " " + (e.getCause() == null ? "" : e.getCause().toString());
        assertTrue(shown.contains(folder), shown);
        assertTrue(shown.contains("AccessDenied") && shown.contains("403"), "not an authorization failure: " + shown);
        assertFalse(shown.contains(wrongSecret), "the secret key appears in: " + shown);
        assertFalse(shown.contains(S3Server.SECRET_KEY), "the secret key appears in: " + shown);
    }
}
