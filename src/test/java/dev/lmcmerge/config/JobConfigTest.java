package dev.lmcmerge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobConfigTest {
    @TempDir
    Path dir;

    private Optional<String> jobFile(String text) throws IOException {
        Path p = dir.resolve("job.conf");
        Files.writeString(p, text);
        return Optional.of(p.toString());
    }

    private static LmcException usageError(Optional<String> job, String... overrides) {
        LmcException e = assertThrows(LmcException.class, () -> JobConfig.load(job, List.of(overrides)));
        assertEquals(ExitCode.USAGE, e.exitCode(), e.getMessage());
        return e;
    }

    @Test
    void defaultsLoadWithTheDocumentedValues() {
        JobConfig c = JobConfig.defaults();
        assertTrue(c.modelA().isEmpty());
        assertEquals(List.of(AlignConfig.Method.NAIVE, AlignConfig.Method.WEIGHT_MATCHING, AlignConfig.Method.DUAL),
                c.align().methods());
        assertEquals(5_000_000_000L, c.output().shardSizeBytes());
        assertEquals(List.of(0.5), c.output().mergedAlphas());
        assertTrue(c.compute().threads().isEmpty(), "threads = auto");
        assertEquals(dev.lmcmerge.align.InterpolationPath.DEFAULT_GRAPH_MEMORY, c.compute().stepGraphMemoryBytes(),
                "the in-process learned matching uses the same default");
        assertEquals(11, c.eval().alphaGrid().length);
        assertEquals("defaults", c.source());
    }

    @Test
    void jobFileOverridesReferenceAndCommandLineOverridesJobFile() throws IOException {
        Optional<String> job = jobFile("""
                lmc {
                  model-a = "hdfs:///models/a"
                  align { steps = 100, lr = 0.01 }
                }
                """);
        JobConfig c = JobConfig.load(job, List.of("align.steps=7"));
        assertEquals(7, c.align().steps());
        assertEquals(0.01, c.align().lr());
        assertEquals(Optional.of("hdfs:///models/a"), c.modelA());
        assertEquals(job.get(), c.source());
    }

    @Test
    void learnedSymmetriesDefaultToEverySymmetryInUse() {
        JobConfig c = JobConfig.load(Optional.empty(), List.of("align.symmetries=residual,qk,ffn"));
        assertEquals(c.align().symmetries(), c.align().learnedSymmetries());
    }

    @Test
    void learnedSymmetriesMayLeaveOutTheFfnPermutations() {
        JobConfig c = JobConfig.load(Optional.empty(), List.of("align.learned-symmetries=residual,heads,qk,vo,scale"));
        assertEquals(List.of(AlignConfig.Symmetry.RESIDUAL, AlignConfig.Symmetry.HEADS, AlignConfig.Symmetry.QK,
                AlignConfig.Symmetry.VO, AlignConfig.Symmetry.SCALE), c.align().learnedSymmetries());
    }

    @Test
    void aLearnedSymmetryThatIsNotUsedIsAnErrorNamingTheKey() {
        LmcException e = assertThrows(LmcException.class, () -> JobConfig.load(Optional.empty(),
                List.of("align.symmetries=residual,qk", "align.learned-symmetries=residual,ffn")));
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertTrue(e.getMessage().contains("lmc.align.learned-symmetries") && e.getMessage().contains("ffn"), e.getMessage());
    }

    @Test
    void laterOverridesWinAndTheLmcPrefixIsOptional() {
        JobConfig c = JobConfig.load(Optional.empty(), List.of("lmc.eval.alphas=5", "eval.alphas=21"));
        assertEquals(21, c.eval().alphas());
    }

    @Test
    void overrideValuesAreLiteralStringsSoUrisKeepTheirSlashes() {
        JobConfig c = JobConfig.load(Optional.empty(), List.of("model-b=hdfs:///models/b#1"));
        assertEquals(Optional.of("hdfs:///models/b#1"), c.modelB());
    }

    @Test
    void listOverridesMayBeCommaSeparatedOrHocon() {
        JobConfig a = JobConfig.load(Optional.empty(), List.of("align.methods=naive,one-sided"));
        JobConfig b = JobConfig.load(Optional.empty(), List.of("align.methods=[naive, one-sided]"));
        assertEquals(List.of(AlignConfig.Method.NAIVE, AlignConfig.Method.ONE_SIDED), a.align().methods());
        assertEquals(a.align().methods(), b.align().methods());
        JobConfig m = JobConfig.load(Optional.empty(), List.of("output.merged-alphas=0.25,0.75"));
        assertEquals(List.of(0.25, 0.75), m.output().mergedAlphas());
    }

    @Test
    void unknownKeyInJobFileNamesFileAndClosestKey() throws IOException {
        Optional<String> job = jobFile("lmc {\n  data {\n    seqlen = 128\n  }\n}\n");
        String m = usageError(job).getMessage();
        assertTrue(m.contains("lmc.data.seqlen"), m);
        assertTrue(m.contains("did you mean lmc.data.seq-len?"), m);
        assertTrue(m.contains("job.conf: 3"), m);
    }

    @Test
    void unknownKeyInOverrideNamesTheOverride() {
        String m = usageError(Optional.empty(), "align.step=5").getMessage();
        assertTrue(m.contains("lmc.align.step: unknown key"), m);
        assertTrue(m.contains("command-line override"), m);
        assertTrue(m.contains("did you mean lmc.align.steps?"), m);
    }

    @Test
    void rightKeyInWrongSectionSuggestsTheRightSection() {
        String m = usageError(Optional.empty(), "seq-len=64").getMessage();
        assertTrue(m.contains("did you mean lmc.data.seq-len?"), m);
    }

    @Test
    void lmcKeyOutsideTheLmcSectionIsAnError() throws IOException {
        String m = usageError(jobFile("model-a = /models/a\n")).getMessage();
        assertTrue(m.contains("did you mean lmc.model-a?"), m);
    }

    @Test
    void otherTopLevelKeysMayHoldSubstitutionVariables() throws IOException {
        JobConfig c = JobConfig.load(jobFile("base = \"hdfs:///m\"\nlmc.model-a = ${base}/a\n"), List.of());
        assertEquals(Optional.of("hdfs:///m/a"), c.modelA());
    }

    @Test
    void wrongTypeNamesTheKeyAndExpectedType() throws IOException {
        String m = usageError(jobFile("lmc.data.seq-len = long\n")).getMessage();
        assertTrue(m.startsWith("lmc.data.seq-len: expected an integer"), m);
        assertTrue(m.contains("\"long\""), m);
    }

    @Test
    void fractionForAnIntegerIsRefusedNotTruncated() {
        String m = usageError(Optional.empty(), "data.batch-size=2.5").getMessage();
        assertTrue(m.startsWith("lmc.data.batch-size: expected an integer"), m);
    }

    @Test
    void outOfRangeNamesTheKeyAndTheRange() {
        String m = usageError(Optional.empty(), "data.batch-size=0").getMessage();
        assertTrue(m.startsWith("lmc.data.batch-size: out of range"), m);
        assertTrue(m.contains("1 .. 65536"), m);
        String f = usageError(Optional.empty(), "data.eval-fraction=1").getMessage();
        assertTrue(f.startsWith("lmc.data.eval-fraction: out of range: expected > 0 and < 1"), f);
    }

    @Test
    void enumValueOutsideTheAllowedListNamesTheAllowedValues() {
        String m = usageError(Optional.empty(), "align.orthogonal=cayly").getMessage();
        assertTrue(m.contains("lmc.align.orthogonal: expected one of cayley, expm"), m);
        assertTrue(m.contains("did you mean cayley?"), m);
    }

    @Test
    void enumListItemsAreCheckedOneByOne() {
        String m = usageError(Optional.empty(), "align.methods=naive,daul").getMessage();
        assertTrue(m.startsWith("lmc.align.methods[1]: expected one of naive, weight-matching"), m);
        String d = usageError(Optional.empty(), "align.methods=dual,dual").getMessage();
        assertTrue(d.contains("dual is listed twice"), d);
    }

    @Test
    void sizesAcceptUnits() {
        assertEquals(500_000_000L, JobConfig.load(Optional.empty(), List.of("output.shard-size=500MB"))
                .output().shardSizeBytes());
        assertEquals(1L << 30, JobConfig.load(Optional.empty(), List.of("compute.cache-size=1GiB"))
                .compute().cacheSizeBytes().getAsLong());
        String m = usageError(Optional.empty(), "output.shard-size=huge").getMessage();
        assertTrue(m.startsWith("lmc.output.shard-size: expected a size"), m);
    }

    @Test
    void autoOrIntegerKeysAcceptBoth() {
        assertEquals(4, JobConfig.load(Optional.empty(), List.of("compute.threads=4")).compute().threads().getAsInt());
        String m = usageError(Optional.empty(), "compute.threads=many").getMessage();
        assertTrue(m.startsWith("lmc.compute.threads: expected auto or an integer 1 .. 1024"), m);
    }

    @Test
    void sectionReplacedByAValueIsAnError() {
        String m = usageError(Optional.empty(), "data=5").getMessage();
        assertTrue(m.startsWith("lmc.data: expected a section"), m);
    }

    @Test
    void runIdCannotLeaveTheOutputFolder() {
        String m = usageError(Optional.empty(), "output.run-id=../other").getMessage();
        assertTrue(m.startsWith("lmc.output.run-id:"), m);
    }

    @Test
    void requiredKeyThatIsNotSetIsNamed() {
        JobConfig c = JobConfig.defaults();
        LmcException e = assertThrows(LmcException.class, () -> JobConfig.require(c.modelA(), "lmc.model-a"));
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertTrue(e.getMessage().startsWith("lmc.model-a: required"), e.getMessage());
    }

    @Test
    void missingJobFileIsAUsageErrorNamingIt() {
        String path = dir.resolve("nope.conf").toString();
        String m = usageError(Optional.of(path)).getMessage();
        assertTrue(m.contains(path) && m.contains("not found"), m);
    }

    @Test
    void unparsableJobFileNamesFileAndLine() throws IOException {
        String m = usageError(jobFile("lmc {\n  align { steps = \n")).getMessage();
        assertTrue(m.contains("job.conf"), m);
    }

    @Test
    void jobFileIsReadThroughHadoopWhenGivenAsUri() throws IOException {
        Optional<String> job = jobFile("lmc.align.steps = 3\n");
        JobConfig c = JobConfig.load(Optional.of(Path.of(job.get()).toUri().toString()), List.of());
        assertEquals(3, c.align().steps());
    }

    @Test
    void malformedOverrideIsAUsageError() {
        String m = usageError(Optional.empty(), "align.steps").getMessage();
        assertTrue(m.contains("key=value"), m);
    }

    @Test
    void s3SettingsPassThroughAndSecretsAreRedactedEverywhere() throws IOException {
        Optional<String> job = jobFile("""
                lmc.s3 {
                  "fs.s3a.endpoint" = "http://127.0.0.1:9000"
                  "fs.s3a.access.key" = "AKIA-visible-nowhere"
                  fs.s3a.secret.key = "s3cr3t-value"
                }
                """);
        JobConfig c = JobConfig.load(job, List.of("s3.fs.s3a.session.token=tok-value"));
        assertEquals("s3cr3t-value", c.hadoopProperties().get("fs.s3a.secret.key"));
        assertEquals("http://127.0.0.1:9000", c.hadoopProperties().get("fs.s3a.endpoint"));
        for (String rendering : List.of(c.redactedJson(), c.renderRedacted(), c.toString())) {
            assertFalse(rendering.contains("s3cr3t-value"), rendering);
            assertFalse(rendering.contains("AKIA-visible-nowhere"), rendering);
            assertFalse(rendering.contains("tok-value"), rendering);
            assertTrue(rendering.contains(Secrets.MASK), rendering);
            assertTrue(rendering.contains("http://127.0.0.1:9000"), rendering);
        }
        assertTrue(c.redactedJson().contains("\"fs.s3a.endpoint\":\"http://127.0.0.1:9000\""), c.redactedJson());
        assertTrue(c.redactedJson().contains("\"fs.s3a.secret.key\":\"***\""), c.redactedJson());
    }

    @Test
    void redactedJsonIsOneJsonObjectOfTheLmcSection() {
        String json = JobConfig.load(Optional.empty(), List.of("align.steps=9")).redactedJson();
        assertTrue(json.startsWith("{") && json.endsWith("}"), json);
        assertTrue(json.contains("\"steps\":9"), json);
        assertFalse(json.contains("\n"), json);
    }

    @Test
    void s3SectionTakesOnlyS3aKeys() {
        String m = usageError(Optional.empty(), "s3.fs.defaultFS=hdfs://x").getMessage();
        assertTrue(m.startsWith("lmc.s3.fs.defaultFS: only keys starting with fs.s3a."), m);
    }

    @Test
    void secretValuesNeverAppearInErrors() {
        String m = usageError(Optional.empty(), "s3.fs.s3a.secret.key=[leaked-value]").getMessage();
        assertTrue(m.contains("lmc.s3.fs.s3a.secret.key"), m);
        assertFalse(m.contains("leaked-value"), m);
    }

    @Test
    void aNegativeStepGraphMemoryIsRefusedNamingTheKey() {
        LmcException e = assertThrows(LmcException.class,
                () -> JobConfig.load(Optional.empty(), List.of("compute.step-graph-memory=-1")));
        assertTrue(e.getMessage().contains("lmc.compute.step-graph-memory"), e.getMessage());
    }
}
