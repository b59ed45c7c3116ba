package dev.lmcmerge.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lmcmerge.io.HfCheckpoint;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The merge job with its models, data and output on S3, end to end: a real S3-compatible server
 * on loopback, a tiny model pair and text uploaded there, and {@code submit/local.sh --s3} running
 * the job. The credentials reach the job only through the standard provider chain (the
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY environment of the driver), never through the job file,
 * and appear in none of its output.
 *
 * <p>No Spark distribution is installed where the tests run, so spark-submit is replaced by a
 * stand-in (src/test/resources/.../local-spark-submit.sh) that does what spark-submit's local mode
 * does with the wrapper's command line: one driver JVM, the --conf settings as spark.* properties.
 */
class S3MergeJobTest {
    private static final String RUN_ID = "s3-e2e";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    private static S3Server server;
    private static String bucket;
    private static Commands.Result result;

    @BeforeAll
    static void runTheJobOnS3() throws Exception {
        server = S3Server.start();
        bucket = server.newBucket();
        Configuration conf = server.hadoopConf();
        TinyPair.writeModel(s3("models/a"), 1, conf);
        TinyPair.writeModel(s3("models/b"), 2, conf);
        TinyPair.writeText(s3("data/text.txt"), 4000, conf);

        Path job = tmp.resolve("s3-job.conf");
        String s3Settings = server.endpointSettings().entrySet().stream()
                .map(e -> "    \"" + e.getKey() + "\" = \"" + e.getValue() + "\"")
                .collect(Collectors.joining("\n"));
        Files.writeString(job, String.join("\n",
                "# A tiny merge with everything on S3; credentials come from the environment.",
                "lmc {",
                "  model-a = \"" + s3("models/a") + "\"",
                "  model-b = \"" + s3("models/b") + "\"",
                "  data { eval = \"" + s3("data/text.txt") + "\", seq-len = 16, batch-size = 4 }",
                "  align { methods = [naive, weight-matching, dual], steps = 2, warmup = 1, checkpoint-every = 1 }",
                "  eval { alphas = 5, max-batches = 2 }",
                "  output { path = \"" + s3("out") + "\", run-id = " + RUN_ID + ", shard-size = 12288 }",
                "  compute { cache-size = 64MB }",
                "  s3 {",
                s3Settings,
                "  }",
                "}",
                ""), StandardCharsets.UTF_8);

        Path fakeSubmit = tmp.resolve("spark-submit");
        try (InputStream in = S3MergeJobTest.class.getResourceAsStream("local-spark-submit.sh")) {
            Files.write(fakeSubmit, in.readAllBytes());
        }
        Files.setPosixFilePermissions(fakeSubmit, PosixFilePermissions.fromString("rwx------"));
        Path jar = tmp.resolve("lmc-merge.jar");
        Files.writeString(jar, "stands for target/lmc-merge.jar; the test classpath has the classes");

        Map<String, String> env = new HashMap<>();
        env.put("SPARK_SUBMIT", fakeSubmit.toString());
        env.put("LMC_JAR", jar.toString());
        env.put("LMC_DRIVER_MEMORY", "2g");
        env.put("LMC_LOCAL_CORES", "2");
        env.put("LMC_ENGINE_CACHE_DIR", djlCacheDir());
        env.put("LMC_TEST_CLASSPATH", System.getProperty("surefire.test.class.path",
                System.getProperty("java.class.path")));
        env.put("LMC_TEST_JVM_OPTS", String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens") || a.startsWith("-Djdk.reflect") || a.startsWith("-Dio.netty"))
                .toList()));
        env.put("AWS_ACCESS_KEY_ID", S3Server.ACCESS_KEY);
        env.put("AWS_SECRET_ACCESS_KEY", S3Server.SECRET_KEY);
        result = Commands.run(env, Duration.ofMinutes(8),
                List.of("bash", "submit/local.sh", "--s3", job.toString()));
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private static String s3(String key) {
        return "s3a://" + bucket + "/" + key;
    }

    /** Where the test JVM's DJL keeps libtorch, so the job does not unpack another copy. */
    private static String djlCacheDir() {
        String dir = System.getenv("ENGINE_CACHE_DIR");
        if (dir == null) {
            dir = System.getenv("DJL_CACHE_DIR");
        }
        return dir != null ? dir : Path.of(System.getProperty("user.home"), ".djl.ai").toString();
    }

    private static org.apache.hadoop.fs.Path run(String relative) {
        return new org.apache.hadoop.fs.Path(s3("out/" + RUN_ID + "/" + relative));
    }

    private static String read(org.apache.hadoop.fs.Path p) throws IOException {
        FileSystem fs = p.getFileSystem(server.hadoopConf());
        try (InputStream in = fs.open(p)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void theJobSucceedsAndPublishesTheWholeRunOnS3() throws IOException {
        assertEquals(0, result.exitCode(), result.describe() + "\n--- S3 server ---\n" + server.log());
        FileSystem fs = run("").getFileSystem(server.hadoopConf());
        for (String p : List.of("_SUCCESS", "run.json", "report.html", "curves", "barriers", "transforms",
                "merged/alpha=0.50/hf/config.json", "merged/alpha=0.50/parquet")) {
            assertTrue(fs.exists(run(p)), p + " exists on S3");
        }
        assertTrue(fs.listStatus(run("curves"), f -> f.getName().endsWith(".parquet")).length > 0, "curves/ has data");
        // This run's staging folder is gone. The empty _staging parent is tidied up best effort (an S3
        // listing right after the rename's deletes may still show them), and readers skip _ folders.
        org.apache.hadoop.fs.Path staging = new org.apache.hadoop.fs.Path(s3("out/_staging"));
        if (fs.exists(staging)) {
            for (org.apache.hadoop.fs.FileStatus st : fs.listStatus(staging)) {
                assertFalse(st.getPath().getName().startsWith(RUN_ID + "-"), "staging of this run left on S3: " + st.getPath());
            }
        }
    }

    @Test
    void theMergedCheckpointOnS3OpensWithEveryTensorOfTheModels() throws IOException {
        assertEquals(0, result.exitCode(), result.describe());
        try (HfCheckpoint merged = HfCheckpoint.open(run("merged/alpha=0.50/hf").toString(), server.hadoopConf())) {
            assertEquals(new TreeSet<>(TinyPair.tensorNames()), new TreeSet<>(merged.tensors().keySet()));
        }
    }

    @Test
    void runJsonRecordsTheS3SettingsButNoCredentials() throws IOException {
        assertEquals(0, result.exitCode(), result.describe());
        String text = read(run("run.json"));
        JsonNode runJson = JSON.readTree(text);
        assertEquals(RUN_ID, runJson.get("run_id").asText());
        assertTrue(text.contains(server.endpoint().toString()), "the endpoint is recorded: " + text);
        assertFalse(text.contains(S3Server.SECRET_KEY), "secret key in run.json");
        assertFalse(text.contains(S3Server.ACCESS_KEY), "access key in run.json");
    }

    @Test
    void theCredentialsAppearNowhereInTheJobsOutput() throws IOException {
        assertEquals(0, result.exitCode(), result.describe());
        assertFalse(result.stdout().contains(S3Server.SECRET_KEY), "secret key on stdout");
        assertFalse(result.stderr().contains(S3Server.SECRET_KEY), "secret key on stderr");
        assertFalse(read(run("report.html")).contains(S3Server.SECRET_KEY), "secret key in report.html");
        assertTrue(result.stdout().contains("barrier"), "the barrier table is printed: " + result.stdout());
    }

    @Test
    void theJobFileNamesNoCredentialsSoTheProviderChainSuppliedThem() throws IOException {
        String job = Files.readString(tmp.resolve("s3-job.conf"));
        assertFalse(job.contains("access.key") || job.contains("secret") || job.contains(S3Server.SECRET_KEY), job);
        FileStatus[] merged = run("merged").getFileSystem(server.hadoopConf()).listStatus(run("merged"));
        assertEquals(1, merged.length, "one merged alpha");
    }
}
