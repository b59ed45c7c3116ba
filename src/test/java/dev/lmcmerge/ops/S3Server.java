package dev.lmcmerge.ops;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3-compatible server on the loopback interface for one test class: S3Proxy (an S3 REST
 * front end over an in-memory blob store) run from its self-contained jar as a separate JVM, so its
 * own libraries (Jetty, a newer AWS SDK) never meet the test classpath. The jar is copied into
 * {@code target/test-tools} by the build (pom.xml) and named by the system property
 * {@code lmc.s3proxy.jar}.
 *
 * <p>The server checks AWS v4 signatures against a fixed key pair, so a client with wrong or missing
 * credentials fails the way it would against S3. It listens on a port the operating system picks
 * (read back from its start-up log), so parallel builds never collide.
 */
final class S3Server implements AutoCloseable {
    /** Access key of the test server (not a real credential). */
    static final String ACCESS_KEY = "lmc-test-access";
    /** Secret key of the test server (not a real credential; tests check it never leaks into output). */
    static final String SECRET_KEY = "lmc-test-secret-" + UUID.randomUUID();

    private static final Pattern STARTED = Pattern.compile("ServerConnector@.*\\{127\\.0\\.0\\.1:(\\d+)}");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final Process process;
    private final Path workDir;
    private final URI endpoint;

    private S3Server(Process process, Path workDir, URI endpoint) {
        this.process = process;
        this.workDir = workDir;
        this.endpoint = endpoint;
    }

    /** Starts a server and waits until it accepts connections. */
    static S3Server start() throws IOException, InterruptedException {
        String jar = System.getProperty("lmc.s3proxy.jar");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("S3Proxy jar not found at system property lmc.s3proxy.jar=" + jar
                    + "; run the tests through Maven (mvn verify), which copies it into target/test-tools");
        }
        Path dir = Files.createTempDirectory("lmc-s3proxy");
        Path props = dir.resolve("s3proxy.properties");
        Files.writeString(props, String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:0",
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=transient-nio2",
                "jclouds.identity=unused",
                "jclouds.credential=unused",
                ""), StandardCharsets.UTF_8);
        Path log = dir.resolve("s3proxy.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-jar", jar, "--properties", props.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            String text = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            Matcher m = STARTED.matcher(text);
            if (m.find()) {
                return new S3Server(p, dir, URI.create("http://127.0.0.1:" + m.group(1)));
            }
            if (!p.isAlive()) {
                throw new IllegalStateException("S3Proxy exited with " + p.exitValue() + " before it started:\n" + text);
            }
            Thread.sleep(100);
        }
        p.destroyForcibly();
        throw new IllegalStateException("S3Proxy did not start within " + START_TIMEOUT + ":\n"
                + Files.readString(log, StandardCharsets.UTF_8));
    }

    /** The server's base URL, e.g. {@code http://127.0.0.1:40123}. */
    URI endpoint() {
        return endpoint;
    }

    /** Creates a bucket with a new unique name (so cached S3A clients of other tests never see it) and returns the name. */
    String newBucket() {
        String name = "lmc-" + UUID.randomUUID().toString().substring(0, 12);
        try (S3Client s3 = S3Client.builder()
                .endpointOverride(endpoint)
                .forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .build()) {
            s3.createBucket(b -> b.bucket(name));
        }
        return name;
    }

    /**
     * The S3A settings that point Hadoop at this server, as a user would put them under
     * {@code lmc.s3} (or {@code spark.hadoop.*}): endpoint, path-style URLs, plain HTTP, a region for
     * v4 signing, the key pair through {@code SimpleAWSCredentialsProvider}, and short retries so a
     * broken test fails in seconds rather than minutes.
     */
    Map<String, String> s3aSettings() {
        Map<String, String> m = new LinkedHashMap<>(endpointSettings());
        m.put("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        m.put("fs.s3a.access.key", ACCESS_KEY);
        m.put("fs.s3a.secret.key", SECRET_KEY);
        return m;
    }

    /** {@link #s3aSettings()} without credentials. */
    Map<String, String> endpointSettings() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("fs.s3a.endpoint", endpoint.toString());
        m.put("fs.s3a.endpoint.region", "us-east-1");
        m.put("fs.s3a.path.style.access", "true");
        m.put("fs.s3a.connection.ssl.enabled", "false");
        m.put("fs.s3a.attempts.maximum", "2");
        m.put("fs.s3a.retry.limit", "2");
        m.put("fs.s3a.retry.interval", "100ms");
        return m;
    }

    /** A Hadoop configuration with {@link #s3aSettings()}. */
    Configuration hadoopConf() {
        Configuration conf = new Configuration();
        s3aSettings().forEach(conf::set);
        return conf;
    }

    /** The server's log so far (for failure messages). */
    String log() {
        try {
            return Files.readString(workDir.resolve("s3proxy.log"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.destroy();
        if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        try (var files = Files.walk(workDir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

}
