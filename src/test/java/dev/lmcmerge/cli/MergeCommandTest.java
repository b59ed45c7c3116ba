package dev.lmcmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.HfCheckpointWriter;
import dev.lmcmerge.io.TensorSource;
import dev.lmcmerge.model.Architectures;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.TensorSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lmc merge} and {@code lmc demo} through Main: exit codes, the job file plus overrides, the printed table. */
class MergeCommandTest {
    @TempDir
    static Path tmp;

    static final String CONFIG = """
            {"model_type": "gpt_neox", "hidden_size": 16, "num_attention_heads": 4, "num_hidden_layers": 2,
             "intermediate_size": %d, "vocab_size": 256, "rotary_pct": 0.5, "layer_norm_eps": 1e-5,
             "use_parallel_residual": true, "tie_word_embeddings": false, "max_position_embeddings": 64,
             "hidden_act": "gelu"}""";

    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(Main.commandLine(), new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    static void model(Path dir, int ffn, long seed) throws IOException {
        var cfg = new com.fasterxml.jackson.databind.ObjectMapper().readTree(CONFIG.formatted(ffn));
        Random rng = new Random(seed);
        List<TensorSource> sources = new ArrayList<>();
        for (TensorSpec t : Architectures.of(ModelConfig.parse(cfg, "t")).tensors()) {
            float[] v = new float[(int) t.numel()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (t.role() == TensorSpec.Role.NORM && t.name().endsWith("weight") ? 1 : 0.2 * rng.nextGaussian());
            }
            sources.add(TensorSource.ofFloats(t.name(), t.shape(), v, DType.F32));
        }
        HfCheckpointWriter.to(dir.toString(), new Configuration()).write(cfg, sources);
    }

    @BeforeAll
    static void inputs() throws IOException {
        // Share the test JVM's Spark session if another test made one; otherwise the command makes and stops its own.
        SparkSession.getDefaultSession();
        model(tmp.resolve("a"), 32, 1);
        model(tmp.resolve("b"), 32, 2);
        model(tmp.resolve("wide"), 48, 3);
        StringBuilder text = new StringBuilder();
        Random rng = new Random(4);
        while (text.length() < 2000) {
            text.append((char) ('a' + rng.nextInt(26))).append(rng.nextInt(5) == 0 ? " " : "");
        }
        Files.writeString(tmp.resolve("text.txt"), text);
        Files.writeString(tmp.resolve("job.conf"), """
                lmc {
                  model-a = "%s"
                  model-b = "%s"
                  data { eval = "%s", seq-len = 16, batch-size = 4 }
                  align.methods = [naive]
                  eval { alphas = 3, max-batches = 1 }
                  output { path = "%s", merged-alphas = [] }
                }
                """.formatted(tmp.resolve("a"), tmp.resolve("b"), tmp.resolve("text.txt"), tmp.resolve("out")));
    }

    @Test
    void mergeRunsTheJobFileWithOverridesAndPrintsTheBarrierTable() {
        Result r = run("merge", tmp.resolve("job.conf").toString(), "output.run-id=ok", "eval.alphas=4");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("barrier_rel"), r.out());
        assertTrue(r.out().contains("naive"), r.out());
        assertTrue(Files.exists(tmp.resolve("out/ok/_SUCCESS")));
    }

    @Test
    void anExistingRunIsAUsageError() {
        assertEquals(0, run("merge", tmp.resolve("job.conf").toString(), "output.run-id=twice").code());
        Result r = run("merge", tmp.resolve("job.conf").toString(), "output.run-id=twice");
        assertEquals(2, r.code());
        assertTrue(r.err().contains(tmp.resolve("out/twice").toString()), r.err());
    }

    @Test
    void modelsThatCannotBeAlignedExitWith4NamingTheDifference() {
        Result r = run("merge", tmp.resolve("job.conf").toString(), "model-b=" + tmp.resolve("wide"),
                "output.run-id=bad");
        assertEquals(4, r.code());
        assertTrue(r.err().contains("intermediate_size"), r.err());
        assertTrue(!Files.exists(tmp.resolve("out/bad")));
    }

    @Test
    void demoRunsConfDemoOnTheBundledPairFromTheProjectRoot() {
        Result r = run("demo", "align.methods=[naive]", "eval.alphas=2", "eval.max-batches=1",
                "output.merged-alphas=[]", "output.path=" + tmp.resolve("demo-out"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("src/demo/models/seed1"), r.out());
        assertTrue(r.out().contains("report: " + tmp.resolve("demo-out/demo/report.html")), r.out());
    }
}
