package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.JobConfig;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.HfCheckpointWriter;
import dev.lmcmerge.io.TensorSource;
import dev.lmcmerge.model.Architectures;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.TensorSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The driver's plan: headers only, alignability (exit 4 naming the first difference), data cut independent of the cluster. */
class DriverPlannerTest {
    @TempDir
    static Path tmp;

    static final Configuration CONF = new Configuration();

    @BeforeAll
    static void models() {
        TinyCheckpoints.write(tmp.resolve("a").toString(), TinyCheckpoints.CONFIG, 1, CONF);
        TinyCheckpoints.write(tmp.resolve("b").toString(), TinyCheckpoints.CONFIG, 2, CONF);
        TinyCheckpoints.write(tmp.resolve("wide").toString(), TinyCheckpoints.CONFIG.replace("\"intermediate_size\": 32",
                "\"intermediate_size\": 48"), 3, CONF);
        TinyCheckpoints.writeText(tmp.resolve("text.txt"), 3000);
        writeNaN(tmp.resolve("nan").toString());
    }

    /** A model whose every weight is NaN: loading its weights would fail, reading its headers does not. */
    static void writeNaN(String dir) {
        var cfg = TinyCheckpoints.config(TinyCheckpoints.CONFIG);
        List<TensorSource> sources = new ArrayList<>();
        for (TensorSpec t : Architectures.of(ModelConfig.parse(cfg, "nan")).tensors()) {
            float[] v = new float[(int) t.numel()];
            Arrays.fill(v, Float.NaN);
            sources.add(TensorSource.ofFloats(t.name(), t.shape(), v, DType.F32));
        }
        HfCheckpointWriter.to(dir, CONF).write(cfg, sources);
    }

    static JobConfig job(String a, String b, String... more) {
        List<String> o = new ArrayList<>(List.of("model-a=" + tmp.resolve(a), "model-b=" + tmp.resolve(b),
                "data.eval=" + tmp.resolve("text.txt"), "data.seq-len=16", "data.batch-size=4", "eval.max-batches=3",
                "output.path=" + tmp.resolve("out")));
        o.addAll(List.of(more));
        return JobConfig.load(Optional.empty(), o);
    }

    @Test
    void planningReadsHeadersOnlyNeverWeights() {
        MergePlan plan = DriverPlanner.plan(job("nan", "b"), CONF, 2);
        assertEquals(2, plan.blocks().size());
        assertTrue(plan.lines().get(0).contains("gpt_neox, 2 layers, d=16"), plan.lines().get(0));
    }

    @Test
    void modelsOfDifferentShapesAreIncompatibleNamingTheFirstDifference() {
        LmcException e = assertThrows(LmcException.class, () -> DriverPlanner.plan(job("a", "wide"), CONF, 2));
        assertEquals(ExitCode.INCOMPATIBLE_MODELS, e.exitCode());
        assertTrue(e.getMessage().contains("intermediate_size: 32 vs 48"), e.getMessage());
        assertTrue(e.getMessage().contains(tmp.resolve("wide").toString()), e.getMessage());
    }

    @Test
    void theDataCutDependsOnTheConfigurationNotOnTheCluster() {
        MergePlan small = DriverPlanner.plan(job("a", "b"), CONF, 1);
        MergePlan large = DriverPlanner.plan(job("a", "b"), CONF, 64);
        assertEquals(small.data().evalSequences(), large.data().evalSequences());
        assertEquals(12, small.data().evalSequences(), "3 batches of 4 held-out sequences");
        assertEquals(1, small.data().evalPartitions());
        assertEquals(12, large.data().evalPartitions(), "never more partitions than sequences");
        assertEquals(4, large.data().stepPartitions(), "a step's batch of 4 is split at most 4 ways");
    }

    @Test
    void missingRequiredKeysAreUsageErrorsNamingTheKey() {
        LmcException e = assertThrows(LmcException.class, () -> DriverPlanner.plan(
                JobConfig.load(Optional.empty(), List.of("model-a=" + tmp.resolve("a"))), CONF, 2));
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertTrue(e.getMessage().contains("lmc.model-b"), e.getMessage());
    }
}
