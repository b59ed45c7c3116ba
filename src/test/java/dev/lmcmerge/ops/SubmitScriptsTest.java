package dev.lmcmerge.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The spark-submit wrappers under submit/ (run with bash, printing their command with
 * {@code --dry-run} or {@code LMC_DRY_RUN=1}): the main class, the jar, DJL offline on driver and
 * executors, libtorch threads = {@code spark.task.cpus}, the job file and overrides passed through
 * unchanged, and what each cluster manager needs on top.
 */
class SubmitScriptsTest {
    private static final String JOB_URI = "hdfs:///jobs/pythia.conf";
    private static final String DJL_OPTS = "-Dai.djl.offline=true -Dai.djl.default_engine=PyTorch";
    private static final Map<String, String> K8S = Map.of(
            "LMC_K8S_MASTER", "k8s://https://k8s.example.com:443",
            "LMC_K8S_IMAGE", "registry.example.com/spark:4.1.3",
            "LMC_K8S_UPLOAD_PATH", "s3a://bucket/upload");

    private static Map<String, String> env(Map<String, String> extra) {
        Map<String, String> m = new HashMap<>(extra);
        m.put("LMC_DRY_RUN", "1");
        return m;
    }

    private static SubmitLine dryRun(String script, Map<String, String> env, String... args) throws Exception {
        Commands.Result r = Commands.run(env(env), bashArgs(script, args));
        assertEquals(0, r.exitCode(), r.describe());
        return SubmitLine.parse(r.stdout());
    }

    private static String[] bashArgs(String script, String... args) {
        String[] cmd = new String[args.length + 2];
        cmd[0] = "bash";
        cmd[1] = "submit/" + script;
        System.arraycopy(args, 0, cmd, 2, args.length);
        return cmd;
    }

    @ParameterizedTest
    @ValueSource(strings = {"local.sh", "yarn.sh", "k8s.sh", "gpu.sh"})
    void everyWrapperSubmitsTheMergeJobOfTheAppJarWithDjlOffline(String script) throws Exception {
        SubmitLine s = dryRun(script, K8S, JOB_URI, "align.steps=50", "output.run-id=r1");

        assertEquals("spark-submit", s.binary());
        assertEquals("dev.lmcmerge.cli.Main", s.options().get("--class"));
        assertEquals(Commands.ROOT.resolve("target/lmc-merge.jar").toString(), s.jar());
        assertEquals(List.of("merge", JOB_URI, "align.steps=50", "output.run-id=r1"), s.args());
        // The weight cache is direct memory: its JVM cap follows the memory outside the heap.
        String direct = " -XX:MaxDirectMemorySize=" + s.conf().getOrDefault("spark.executor.memoryOverhead", "8g");
        assertEquals(DJL_OPTS + direct, s.conf().get("spark.driver.extraJavaOptions"));
        assertEquals(DJL_OPTS + direct, s.conf().get("spark.executor.extraJavaOptions"));
        assertEquals("true", s.conf().get("spark.executorEnv.DJL_OFFLINE"));
        assertTrue(s.conf().get("spark.executorEnv.ENGINE_CACHE_DIR").startsWith("/"), s.conf().toString());
        String cpus = s.conf().get("spark.task.cpus");
        assertTrue(cpus.matches("[1-9][0-9]*"), "spark.task.cpus=" + cpus);
        assertEquals(cpus, s.conf().get("spark.executorEnv.OMP_NUM_THREADS"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"local.sh", "yarn.sh", "k8s.sh", "gpu.sh"})
    void everyComputingJvmGetsMallocSettingsThatReturnFreedTensorsToTheSystem(String script) throws Exception {
        SubmitLine s = dryRun(script, K8S, JOB_URI);
        Map<String, String> expected = Map.of("MALLOC_ARENA_MAX", "2", "MALLOC_MMAP_THRESHOLD_", "1048576",
                "MALLOC_TRIM_THRESHOLD_", "1048576");
        expected.forEach((k, v) -> assertEquals(v, s.conf().get("spark.executorEnv." + k), k));
        if (script.equals("local.sh")) {
            expected.forEach((k, v) -> assertEquals(v, s.env().get(k), k));
        }
    }

    @Test
    void mallocSettingsAlreadyInTheEnvironmentWin() throws Exception {
        Map<String, String> e = new HashMap<>(K8S);
        e.put("MALLOC_ARENA_MAX", "4");
        SubmitLine s = dryRun("yarn.sh", e, JOB_URI);
        assertEquals("4", s.conf().get("spark.executorEnv.MALLOC_ARENA_MAX"));
        assertEquals("4", s.conf().get("spark.yarn.appMasterEnv.MALLOC_ARENA_MAX"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"local.sh", "yarn.sh", "k8s.sh", "gpu.sh"})
    void lmcJarAndTaskCpusChangeWhatIsSubmitted(String script) throws Exception {
        Map<String, String> e = new HashMap<>(K8S);
        e.put("LMC_JAR", "hdfs:///apps/lmc-merge-0.1.jar");
        e.put("LMC_TASK_CPUS", "6");
        SubmitLine s = dryRun(script, e, JOB_URI);

        assertEquals("hdfs:///apps/lmc-merge-0.1.jar", s.jar());
        assertEquals("6", s.conf().get("spark.task.cpus"));
        assertEquals("6", s.conf().get("spark.executorEnv.OMP_NUM_THREADS"));
    }

    @Test
    void dashDashDryRunPrintsTheSameCommandAsTheEnvironmentVariable() throws Exception {
        Commands.Result flag = Commands.run(Map.of(), "bash", "submit/yarn.sh", "--dry-run", JOB_URI, "a.b=1");
        Commands.Result var = Commands.run(Map.of("LMC_DRY_RUN", "1"), "bash", "submit/yarn.sh", JOB_URI, "a.b=1");
        assertEquals(0, flag.exitCode(), flag.describe());
        assertEquals(var.stdout(), flag.stdout());
    }

    @Test
    void localModeRunsInThisJvmSoTheDriverEnvironmentIsSparkSubmitsOwn() throws Exception {
        SubmitLine s = dryRun("local.sh", Map.of(), "conf/demo.conf");

        assertEquals("local[*]", s.options().get("--master"));
        assertEquals("true", s.env().get("DJL_OFFLINE"));
        assertEquals("1", s.env().get("OMP_NUM_THREADS"));
        assertEquals(s.conf().get("spark.executorEnv.ENGINE_CACHE_DIR"), s.env().get("ENGINE_CACHE_DIR"));
        assertEquals(List.of("merge", "conf/demo.conf"), s.args());
        assertNull(s.options().get("--files"), "nothing to ship in local mode");
    }

    @Test
    void yarnClusterModeShipsALocalJobFileAndNamesItByItsBaseName() throws Exception {
        SubmitLine s = dryRun("yarn.sh", Map.of(), "conf/demo.conf", "align.steps=5");

        assertEquals("yarn", s.options().get("--master"));
        assertEquals("cluster", s.options().get("--deploy-mode"));
        assertEquals(Commands.ROOT.resolve("conf/demo.conf").toString(), s.options().get("--files"));
        assertEquals(List.of("merge", "demo.conf", "align.steps=5"), s.args());
        assertEquals("true", s.conf().get("spark.yarn.appMasterEnv.DJL_OFFLINE"));
        assertEquals(s.conf().get("spark.task.cpus"), s.conf().get("spark.yarn.appMasterEnv.OMP_NUM_THREADS"));
        assertEquals(s.conf().get("spark.task.cpus"), s.conf().get("spark.executor.cores"),
                "one task per executor by default");
    }

    @Test
    void defaultParallelismIsOneTaskSlotPerExecutorCoreGroup() throws Exception {
        SubmitLine four = dryRun("yarn.sh", Map.of(), JOB_URI);
        assertEquals("4", four.conf().get("spark.default.parallelism"));

        SubmitLine twoSlotsEach = dryRun("yarn.sh", Map.of("LMC_NUM_EXECUTORS", "3", "LMC_EXECUTOR_CORES", "8",
                "LMC_TASK_CPUS", "4"), JOB_URI);
        assertEquals("6", twoSlotsEach.conf().get("spark.default.parallelism"));

        Commands.Result bad = Commands.run(env(Map.of("LMC_EXECUTOR_CORES", "2", "LMC_TASK_CPUS", "4")),
                "bash", "submit/yarn.sh", JOB_URI);
        assertEquals(2, bad.exitCode(), bad.describe());
        assertTrue(bad.stderr().contains("LMC_EXECUTOR_CORES=2"), bad.describe());
    }

    @Test
    void yarnClientModeReadsTheJobFileWhereItIsAndSetsTheDriverEnvironmentLocally() throws Exception {
        SubmitLine s = dryRun("yarn.sh", Map.of("LMC_DEPLOY_MODE", "client", "LMC_QUEUE", "ml"), "conf/demo.conf");

        assertEquals("client", s.options().get("--deploy-mode"));
        assertEquals("ml", s.options().get("--queue"));
        assertNull(s.options().get("--files"));
        assertEquals(List.of("merge", "conf/demo.conf"), s.args());
        assertEquals("true", s.env().get("DJL_OFFLINE"));
        assertFalse(s.conf().containsKey("spark.yarn.appMasterEnv.DJL_OFFLINE"));
    }

    @Test
    void kubernetesSetsImageNamespaceAndDriverPodEnvironment() throws Exception {
        SubmitLine s = dryRun("k8s.sh", K8S, JOB_URI);

        assertEquals("k8s://https://k8s.example.com:443", s.options().get("--master"));
        assertEquals("cluster", s.options().get("--deploy-mode"));
        assertEquals("registry.example.com/spark:4.1.3", s.conf().get("spark.kubernetes.container.image"));
        assertEquals("default", s.conf().get("spark.kubernetes.namespace"));
        assertEquals("s3a://bucket/upload", s.conf().get("spark.kubernetes.file.upload.path"));
        assertEquals("true", s.conf().get("spark.kubernetes.driverEnv.DJL_OFFLINE"));
    }

    @Test
    void kubernetesRefusesLocalFilesWithoutAnUploadPath() throws Exception {
        Map<String, String> e = new HashMap<>(env(K8S));
        e.remove("LMC_K8S_UPLOAD_PATH");
        Commands.Result r = Commands.run(e, "bash", "submit/k8s.sh", "conf/demo.conf");

        assertEquals(2, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("LMC_K8S_UPLOAD_PATH"), r.describe());
        assertEquals("", r.stdout());
    }

    @Test
    void kubernetesNeedsNoUploadPathForAJarInTheImageAndAJobFileUri() throws Exception {
        Map<String, String> e = new HashMap<>(K8S);
        e.remove("LMC_K8S_UPLOAD_PATH");
        e.put("LMC_JAR", "local:///opt/lmc-merge/lmc-merge.jar");
        SubmitLine s = dryRun("k8s.sh", e, JOB_URI);

        assertEquals("local:///opt/lmc-merge/lmc-merge.jar", s.jar());
        assertNull(s.options().get("--files"));
    }

    @Test
    void kubernetesWithoutMasterOrImageSaysWhichVariableIsMissing() throws Exception {
        Commands.Result r = Commands.run(Map.of("LMC_DRY_RUN", "1", "LMC_K8S_IMAGE", "img"),
                "bash", "submit/k8s.sh", JOB_URI);
        assertEquals(2, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("LMC_K8S_MASTER"), r.describe());
    }

    @Test
    void gpuOnYarnAsksForGpusAndShipsTheDiscoveryScript() throws Exception {
        SubmitLine s = dryRun("gpu.sh", Map.of("LMC_GPUS_PER_EXECUTOR", "2"), JOB_URI);

        assertEquals("yarn", s.options().get("--master"));
        assertEquals("2", s.conf().get("spark.executor.resource.gpu.amount"));
        assertEquals("1", s.conf().get("spark.task.resource.gpu.amount"));
        assertEquals("./getGpusResources.sh", s.conf().get("spark.executor.resource.gpu.discoveryScript"));
        assertEquals(Commands.ROOT.resolve("submit/getGpusResources.sh").toString(), s.options().get("--files"));
        // libtorch for CUDA comes from the node, with the JNI flavor the app jar carries (cu128).
        assertEquals("/opt/libtorch-2.7.1-cu128/lib", s.conf().get("spark.executorEnv.PYTORCH_LIBRARY_PATH"));
        assertEquals("cu128", s.conf().get("spark.executorEnv.PYTORCH_FLAVOR"));
        assertEquals("2.7.1", s.conf().get("spark.executorEnv.PYTORCH_VERSION"));
        assertFalse(s.conf().keySet().stream().anyMatch(k -> k.startsWith("spark.rapids")), s.conf().toString());
        assertFalse(s.conf().getOrDefault("spark.plugins", "").contains("rapids"), s.conf().toString());
    }

    @Test
    void theCudaFlavorGpuShAsksForIsOneWhoseJniLibraryTheAppCarries() throws Exception {
        SubmitLine s = dryRun("gpu.sh", Map.of(), JOB_URI);
        String flavor = s.conf().get("spark.executorEnv.PYTORCH_FLAVOR");
        String jni = "jnilib/linux-x86_64/" + flavor + "/libdjl_torch.so";
        assertTrue(getClass().getClassLoader().getResource(jni) != null, jni + " is on the classpath (pytorch-jni)");
        String version = s.conf().get("spark.executorEnv.PYTORCH_VERSION");
        try (var in = getClass().getClassLoader().getResourceAsStream("jnilib/pytorch.properties")) {
            String props = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(props.contains("jni_version=" + version + "-"), "the JNI is built for libtorch " + version + ": " + props);
        }
    }

    @Test
    void aJarWithBundledCudaNativesNeedsNoLibtorchFromTheNode() throws Exception {
        SubmitLine s = dryRun("gpu.sh", Map.of("LMC_LIBTORCH_DIR", "bundled"), JOB_URI);
        assertFalse(s.conf().keySet().stream().anyMatch(k -> k.startsWith("spark.executorEnv.PYTORCH_")),
                s.conf().toString());
        assertEquals("1", s.conf().get("spark.executor.resource.gpu.amount"));
    }

    @Test
    void gpuOnKubernetesUsesTheImagesScriptAndTheNvidiaVendor() throws Exception {
        Map<String, String> e = new HashMap<>(K8S);
        e.put("LMC_GPU_CLUSTER", "k8s");
        SubmitLine s = dryRun("gpu.sh", e, JOB_URI);

        assertEquals("nvidia.com", s.conf().get("spark.executor.resource.gpu.vendor"));
        assertEquals("/opt/spark/examples/src/main/scripts/getGpusResources.sh",
                s.conf().get("spark.executor.resource.gpu.discoveryScript"));
        assertNull(s.options().get("--files"));
    }

    @Test
    void gpuOnStandaloneLeavesDiscoveryToTheWorkers() throws Exception {
        SubmitLine s = dryRun("gpu.sh", Map.of("LMC_GPU_CLUSTER", "standalone", "LMC_MASTER", "spark://m:7077"),
                JOB_URI);

        assertEquals("spark://m:7077", s.options().get("--master"));
        assertEquals("1", s.conf().get("spark.executor.resource.gpu.amount"));
        assertFalse(s.conf().containsKey("spark.executor.resource.gpu.discoveryScript"));
    }

    @Test
    void s3AddsTheMagicCommitterThroughSparksCloudCommitProtocol() throws Exception {
        SubmitLine without = dryRun("yarn.sh", Map.of(), JOB_URI);
        SubmitLine with = dryRun("yarn.sh", Map.of(), "--s3", JOB_URI);

        assertFalse(without.conf().containsKey("spark.hadoop.fs.s3a.committer.name"));
        assertEquals("magic", with.conf().get("spark.hadoop.fs.s3a.committer.name"));
        assertEquals("org.apache.spark.internal.io.cloud.PathOutputCommitProtocol",
                with.conf().get("spark.sql.sources.commitProtocolClass"));
        assertEquals("org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter",
                with.conf().get("spark.sql.parquet.output.committer.class"));
        assertFalse(with.conf().keySet().stream().anyMatch(k -> k.contains("access.key") || k.contains("secret")),
                "credentials come from the provider chain, never from the command line: " + with.conf());
    }

    @Test
    void userConfComesLastSoItOverridesTheWrappersDefaults() throws Exception {
        SubmitLine s = dryRun("yarn.sh", Map.of(), "--conf", "spark.executor.memory=64g", "--conf=spark.x.y=z",
                JOB_URI);

        assertEquals("64g", s.conf().get("spark.executor.memory"));
        assertEquals("z", s.conf().get("spark.x.y"));
        List<String> order = s.confOrder();
        assertEquals(order.size() - 1, order.lastIndexOf("spark.x.y"));
        assertTrue(order.indexOf("spark.executor.memory") < order.lastIndexOf("spark.executor.memory"),
                "the user's value must follow the default: " + order);
    }

    @Test
    void overridesWithSpacesAndQuotesArriveAsOneArgumentEach() throws Exception {
        SubmitLine s = dryRun("local.sh", Map.of(), JOB_URI, "output.path=/tmp/a b", "align.methods=[naive, \"dual\"]",
                "x='y'");
        assertEquals(List.of("merge", JOB_URI, "output.path=/tmp/a b", "align.methods=[naive, \"dual\"]", "x='y'"),
                s.args());
    }

    @Test
    void aBadCommandLineExitsTwoWithUsage() throws Exception {
        Commands.Result noJob = Commands.run(Map.of(), "bash", "submit/yarn.sh");
        assertEquals(2, noJob.exitCode(), noJob.describe());
        assertTrue(noJob.stderr().contains("usage:"), noJob.describe());

        Commands.Result badOverride = Commands.run(env(Map.of()), "bash", "submit/yarn.sh", JOB_URI, "steps");
        assertEquals(2, badOverride.exitCode(), badOverride.describe());
        assertTrue(badOverride.stderr().contains("'steps'"), badOverride.describe());

        Commands.Result missing = Commands.run(Map.of(), "bash", "submit/local.sh", "conf/no-such-job.conf");
        assertEquals(2, missing.exitCode(), missing.describe());
        assertTrue(missing.stderr().contains("conf/no-such-job.conf"), missing.describe());
    }

    @Test
    void aRealRunExecsSparkSubmitWithTheEnvironmentAndArgumentsPrinted(@TempDir Path tmp) throws Exception {
        // A stand-in spark-submit that records its environment and arguments.
        Path fake = tmp.resolve("spark-submit");
        Path record = tmp.resolve("record.txt");
        Files.writeString(fake, "#!/usr/bin/env bash\n"
                + "{ echo \"DJL_OFFLINE=$DJL_OFFLINE OMP_NUM_THREADS=$OMP_NUM_THREADS ENGINE_CACHE_DIR=$ENGINE_CACHE_DIR\"\n"
                + "  printf '%s\\n' \"$@\"; } > " + record + "\nexit 7\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
        Path jar = tmp.resolve("app.jar");
        Files.writeString(jar, "not really a jar");

        Map<String, String> e = Map.of("SPARK_SUBMIT", fake.toString(), "LMC_JAR", jar.toString(),
                "LMC_TASK_CPUS", "2", "LMC_ENGINE_CACHE_DIR", tmp.resolve("djl").toString());
        Commands.Result r = Commands.run(e, "bash", "submit/local.sh", "conf/demo.conf", "align.steps=3");
        Commands.Result printed = Commands.run(env(e), "bash", "submit/local.sh", "conf/demo.conf", "align.steps=3");

        assertEquals(7, r.exitCode(), "spark-submit's exit code is the wrapper's: " + r.describe());
        List<String> lines = Files.readAllLines(record);
        assertEquals("DJL_OFFLINE=true OMP_NUM_THREADS=2 ENGINE_CACHE_DIR=" + tmp.resolve("djl"), lines.get(0));
        SubmitLine s = SubmitLine.parse(printed.stdout());
        List<String> expected = Commands.words(printed.stdout().strip());
        assertEquals(expected.subList(expected.indexOf(s.binary()) + 1, expected.size()), lines.subList(1, lines.size()));
    }

    @Test
    void aRealRunWithoutTheJarSaysHowToBuildIt(@TempDir Path tmp) throws Exception {
        Commands.Result r = Commands.run(Map.of("LMC_JAR", tmp.resolve("missing.jar").toString(),
                "SPARK_SUBMIT", "/bin/false"), "bash", "submit/local.sh", "conf/demo.conf");
        assertEquals(2, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("missing.jar") && r.stderr().contains("mvn"), r.describe());
    }

    @Test
    void theGpuDiscoveryScriptPrintsSparksResourceJsonFromNvidiaSmi(@TempDir Path tmp) throws Exception {
        Path smi = tmp.resolve("nvidia-smi");
        Files.writeString(smi, "#!/usr/bin/env bash\n[ \"$1 $2\" = \"--query-gpu=index --format=csv,noheader\" ]"
                + " || exit 9\nprintf '0\\n1\\n 3\\n'\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwx------"));

        Commands.Result r = Commands.run(Map.of("NVIDIA_SMI", smi.toString()), "bash", "submit/getGpusResources.sh");

        assertEquals(0, r.exitCode(), r.describe());
        assertEquals("{\"name\":\"gpu\",\"addresses\":[\"0\",\"1\",\"3\"]}", r.stdout().strip());
    }

    @Test
    void theGpuDiscoveryScriptFailsLoudlyWithoutNvidiaSmi(@TempDir Path tmp) throws Exception {
        Commands.Result r = Commands.run(Map.of("NVIDIA_SMI", tmp.resolve("absent").toString()),
                "bash", "submit/getGpusResources.sh");
        assertTrue(r.exitCode() != 0, r.describe());
        assertTrue(r.stderr().contains("absent"), r.describe());
        assertEquals("", r.stdout());
    }

    @Test
    void theWrappersAreExecutable() throws IOException {
        for (String s : List.of("local.sh", "yarn.sh", "k8s.sh", "gpu.sh", "getGpusResources.sh")) {
            assertTrue(Files.isExecutable(Commands.ROOT.resolve("submit").resolve(s)), s);
        }
    }
}
