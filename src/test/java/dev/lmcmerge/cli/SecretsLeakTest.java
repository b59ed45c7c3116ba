package dev.lmcmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Planted secrets (issue 9, item 5): S3 credentials given in the job file ({@code lmc.s3}),
 * through an environment variable the job file refers to, and in the Hadoop configuration of
 * the Spark context ({@code fs.s3a.secret.key}, as {@code spark.hadoop.*} or core-site.xml put it
 * there) never appear in stdout, stderr, any log record (Log4j at INFO, java.util.logging,
 * System.out/err), run.json, report.html, any file under the output folder, or an exception
 * message and stack trace (runs use {@code --debug}) - whether the merge job completes or fails.
 */
class SecretsLeakTest {
    @TempDir
    static Path tmp;

    private static SparkSession ownSpark;
    private static SparkSession spark;

    static final String ENV = "LMC_TEST_PLANTED_TOKEN";
    static final String JOB_ACCESS = planted("job-access");
    static final String JOB_SECRET = planted("job-secret");
    static final String ENV_TOKEN = planted("env-token");
    static final String HADOOP_SECRET = planted("hadoop-secret");
    static final List<String> ALL = List.of(JOB_ACCESS, JOB_SECRET, ENV_TOKEN, HADOOP_SECRET);

    static Path good;
    static Path goodB;
    static Path nanB;
    static Path text;

    private static String planted(String what) {
        return "PLANTED-" + what + "-" + UUID.randomUUID().toString().replace("-", "");
    }

    @BeforeAll
    static void setUp() throws Exception {
        good = BadInputs.model(tmp.resolve("models/a"), BadInputs.NEOX, 1);
        goodB = BadInputs.model(tmp.resolve("models/b"), BadInputs.NEOX, 2);
        nanB = BadInputs.model(tmp.resolve("models/nan"), BadInputs.NEOX, 2, Set.of(), Float.NaN);
        text = BadInputs.text(tmp.resolve("data/text.txt"), 2000);
        setEnv(ENV, ENV_TOKEN);
        assertEquals(ENV_TOKEN, System.getenv(ENV), "the planted environment variable is visible");
        if (SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty()) {
            ownSpark = SparkSession.builder().master("local[2]").appName("secrets-leak")
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "2")
                    .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
                    .getOrCreate();
        }
        spark = SparkSession.active();
    }

    @AfterAll
    static void tearDown() throws Exception {
        setEnv(ENV, null);
        spark.sparkContext().hadoopConfiguration().unset("fs.s3a.secret.key");
        spark.sparkContext().hadoopConfiguration().unset("fs.s3a.bucket.archive.secret.key");
        if (ownSpark != null) {
            ownSpark.stop();
        }
    }

    /** Sets (or with null removes) a variable of this JVM's environment, which Typesafe Config substitutes from. */
    @SuppressWarnings("unchecked")
    private static void setEnv(String name, String value) throws ReflectiveOperationException {
        Map<String, String> env = System.getenv();
        Field m = env.getClass().getDeclaredField("m");
        m.setAccessible(true);
        Map<String, String> writable = (Map<String, String>) m.get(env);
        if (value == null) {
            writable.remove(name);
        } else {
            writable.put(name, value);
        }
    }

    record Run(int code, String out, String err, String logs) {
        String all() {
            return out + "\n" + err + "\n" + logs;
        }
    }

    private static Run lmc(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code;
        String logs;
        try (CapturedLogs captured = new CapturedLogs()) {
            code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
            logs = captured.text();
        }
        return new Run(code, out.toString(), err.toString(), logs);
    }

    private static Path jobFile(Path file, Path modelB, Path output, boolean jobSecretKey) throws IOException {
        Files.writeString(file, """
                lmc {
                  model-a = "%s"
                  model-b = "%s"
                  data { eval = "%s", seq-len = 16, batch-size = 4 }
                  align { methods = [naive], steps = 1 }
                  eval { alphas = 3, max-batches = 1 }
                  output { path = "%s", run-id = r1, merged-alphas = [0.5] }
                  s3 {
                    "fs.s3a.access.key" = "%s"
                    %s
                    "fs.s3a.session.token" = ${?%s}
                  }
                }
                """.formatted(good, modelB, text, output, JOB_ACCESS,
                jobSecretKey ? "\"fs.s3a.secret.key\" = \"" + JOB_SECRET + "\"" : "", ENV));
        return file;
    }

    /** Every planted secret is absent from the run's printed and logged text and from every file under {@code folder}. */
    private static void assertNoSecret(Run r, Path folder) throws IOException {
        for (String s : ALL) {
            assertFalse(r.out().contains(s), () -> "secret on stdout:\n" + r.out());
            assertFalse(r.err().contains(s), () -> "secret on stderr:\n" + r.err());
            assertFalse(r.logs().contains(s), () -> "secret in the logs:\n" + r.logs());
        }
        List<Path> files = new ArrayList<>();
        if (Files.exists(folder)) {
            try (Stream<Path> w = Files.walk(folder)) {
                w.filter(Files::isRegularFile).forEach(files::add);
            }
        }
        for (Path f : files) {
            // Every file as bytes: text files (run.json, report.html, config.json, ...) and binary ones alike.
            String content = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
            for (String s : ALL) {
                assertFalse(content.contains(s), () -> "secret in " + f);
            }
        }
    }

    @Test
    void aCompletedRunWritesNoSecretAnywhere() throws IOException {
        spark.sparkContext().hadoopConfiguration().set("fs.s3a.bucket.archive.secret.key", HADOOP_SECRET);
        Path out = tmp.resolve("out-ok");
        Path job = jobFile(tmp.resolve("ok.conf"), goodB, out, true);
        Run r = lmc("merge", "--debug", job.toString());
        assertEquals(0, r.code(), r::err);
        Path run = out.resolve("r1");
        assertTrue(Files.exists(run.resolve("_SUCCESS")));
        String runJson = Files.readString(run.resolve("run.json"));
        // The keys are recorded, their values masked: the secrets did reach the configuration.
        String compact = runJson.replaceAll("\\s+", "");
        assertTrue(compact.contains("\"fs.s3a.secret.key\":\"***\""), runJson);
        assertTrue(compact.contains("\"fs.s3a.session.token\":\"***\""), runJson);
        assertTrue(compact.contains("\"fs.s3a.access.key\":\"***\""), runJson);
        assertTrue(Files.readString(run.resolve("report.html")).contains("lmc-merge run r1"));
        assertTrue(Files.exists(run.resolve("merged")), "the merged checkpoint is among the files searched");
        assertTrue(r.logs().contains("INFO"), "the logs were captured at INFO");
        assertNoSecret(r, out);
    }

    @Test
    void aRunFailingOnTheExecutorsPrintsNoSecretInItsErrorOrLogs() throws IOException {
        spark.sparkContext().hadoopConfiguration().set("fs.s3a.secret.key", HADOOP_SECRET);
        Path out = tmp.resolve("out-fail");
        Path job = jobFile(tmp.resolve("fail.conf"), nanB, out, false);
        Run r = lmc("merge", "--debug", job.toString());
        assertEquals(3, r.code(), r::err);
        assertTrue(r.err().contains("holds NaN"), r.err());
        assertTrue(r.err().contains("\tat "), "--debug printed the stack trace: every cause's message is searched");
        assertFalse(Files.exists(out.resolve("r1")));
        assertNoSecret(r, out);
    }

    /**
     * Job files that are wrong where the secret is: the error names the key but never shows the value,
     * even with the stack trace of {@code --debug}.
     */
    @ParameterizedTest
    @ValueSource(strings = {
        "lmc.s3 { \"fs.s3a.secret.key\" = [\"SECRET\"] }",
        "lmc.s3 { \"fs.s3a.secret.key\" { nested = \"SECRET\" } }",
        "lmc.s3 { \"aws.secret.key\" = \"SECRET\" }",
        "lmc.secret-key = \"SECRET\"",
        "lmc.data.secret = \"SECRET\"",
        "lmc.s3 { \"fs.s3a.secret.key\" = \"SECRET\" }\nlmc.eval.alphas = many",
        "lmc.s3 { \"fs.s3a.secret.key\" = \"SECRET\" \n oops",
        "lmc.s3 { \"fs.s3a.secret.key\" = SECRET , }}",
        "lmc.s3 { \"fs.s3a.secret.key\" = \"SECRET\"${?NOT_SET_ANYWHERE}${undefined} }"})
    void aJobFileErrorNeverShowsTheSecret(String body) throws IOException {
        String secret = planted("config");
        Path job = tmp.resolve("bad-" + UUID.randomUUID() + ".conf");
        Files.writeString(job, body.replace("SECRET", secret));
        Run r = lmc("merge", "--debug", job.toString());
        assertEquals(2, r.code(), r::err);
        assertTrue(r.err().startsWith("lmc: error: "), r.err());
        assertFalse(r.all().contains(secret), () -> "secret shown:\n" + r.err());
    }

    @Test
    void aSecretGivenAsAnOverrideOfTheWrongTypeIsNotEchoed() {
        String secret = planted("override");
        Run r = lmc("merge", "--debug", "s3.\"fs.s3a.secret.key\"=[" + secret + "]", "model-a=" + good);
        assertNotEquals(0, r.code());
        assertFalse(r.all().contains(secret), () -> "secret shown:\n" + r.err());
    }
}
