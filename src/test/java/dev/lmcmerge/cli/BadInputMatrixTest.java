package dev.lmcmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bad-input matrix (issue 9, item 3): every way a checkpoint, a dataset, a job file or an
 * output location can be wrong, run through {@code lmc} in-process. Each case must exit with
 * the documented code (2 usage or configuration, 3 invalid input, 4 models that cannot be
 * aligned), print one {@code lmc: error:} line that names the file or key at fault (its own
 * distinctive fragment), print no stack trace, and leave nothing that looks like a complete
 * result: no {@code _SUCCESS} and nothing at the run's final folder for {@code merge}, no
 * logits file for {@code forward}, no result on stdout for {@code eval} and {@code inspect}.
 *
 * <p>Each case prints {@code MATRIX | case | command | code | message}; docs/reliability.md
 * carries the same table.
 */
class BadInputMatrixTest {
    @TempDir
    static Path tmp;

    /** Created here when no other test left a session; the merge cases plan on its driver. */
    private static SparkSession ownSpark;

    static Path good;
    static Path goodB;
    static Path text;
    static Path job;
    static Path vit;

    @BeforeAll
    static void inputs() throws IOException {
        good = BadInputs.model(tmp.resolve("models/a"), BadInputs.NEOX, 1);
        goodB = BadInputs.model(tmp.resolve("models/b"), BadInputs.NEOX, 2);
        vit = BadInputs.model(tmp.resolve("models/vit"), BadInputs.VIT, 3);
        text = BadInputs.text(tmp.resolve("data/text.txt"), 2000);
        job = BadInputs.jobFile(tmp.resolve("job.conf"), good, goodB, text);
        if (SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty()) {
            ownSpark = SparkSession.builder().master("local[2]").appName("bad-input-matrix")
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "2")
                    .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
                    .getOrCreate();
        }
    }

    @AfterAll
    static void stopSpark() {
        if (ownSpark != null) {
            ownSpark.stop();
        }
    }

    /** What a case's command leaves behind, checked after it failed. */
    enum Leaves {
        /** merge: no {@code _SUCCESS}, nothing at {@code out/r1}. */
        NO_RUN,
        /** merge into a run folder that existed before: it is left as it was, without {@code _SUCCESS}. */
        OLD_RUN_UNTOUCHED,
        /** forward: no {@code logits.npy}. */
        NO_LOGITS,
        /** eval, inspect: nothing on stdout. */
        NO_RESULT
    }

    /** Builds a case's bad input under its own folder and returns the command line. */
    interface Setup {
        String[] args(Path dir) throws IOException;
    }

    record Case(String name, int code, List<String> fragments, Leaves leaves, Setup setup) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Arguments bad(String name, int code, Leaves leaves, Setup setup, String... fragments) {
        return Arguments.of(new Case(name, code, List.of(fragments), leaves, setup));
    }

    // ---- command lines ----------------------------------------------------------------------

    /** {@code lmc merge job.conf output.path=DIR/out overrides...}: the shared job file, the case's own output. */
    private static String[] merge(Path dir, String... overrides) {
        String[] a = new String[3 + overrides.length];
        a[0] = "merge";
        a[1] = job.toString();
        a[2] = "output.path=" + dir.resolve("out");
        System.arraycopy(overrides, 0, a, 3, overrides.length);
        return a;
    }

    private static String[] inspect(Path model) {
        return new String[] {"inspect", "--model", model.toString()};
    }

    private static String[] eval(Path model, Path data, String... more) {
        String[] base = {"eval", "--model", model.toString(), "--data", data.toString(), "--max-batches", "1",
            "--batch-size", "2"};
        String[] a = new String[base.length + more.length];
        System.arraycopy(base, 0, a, 0, base.length);
        System.arraycopy(more, 0, a, base.length, more.length);
        return a;
    }

    private static String[] forward(Path dir, Path model) {
        Path ids = BadInputs.npyTokens(dir.resolve("ids.npy"), new long[] {1, 8}, 1, 2, 3, 4, 5, 6, 7, 8);
        return new String[] {"forward", "--model", model.toString(), "--input-ids", ids.toString(),
            "--out", dir.resolve("logits.npy").toString()};
    }

    // ---- the matrix -------------------------------------------------------------------------

    static Stream<Arguments> cases() {
        Leaves r = Leaves.NO_RESULT;
        Leaves m = Leaves.NO_RUN;
        return Stream.of(
                // Checkpoints: files and headers.
                bad("truncated safetensors", 3, r,
                        d -> inspect(BadInputs.truncated(good, d.resolve("m"), 100)),
                        "model.safetensors", "the file is truncated"),
                bad("corrupt safetensors (random bytes)", 3, r,
                        d -> inspect(BadInputs.withSafetensors(good, d.resolve("m"), randomBytes(4096))),
                        "model.safetensors", "header length"),
                bad("safetensors header not JSON", 3, r,
                        d -> inspect(BadInputs.withSafetensors(good, d.resolve("m"),
                                withLength("{\"a\": not json}", 0))),
                        "model.safetensors", "not valid JSON"),
                bad("header lies about offsets (past the end)", 3, r,
                        d -> inspect(BadInputs.lyingHeader(good, d.resolve("m"), BadInputs.lastTensor(good), 64, 64)),
                        "reach past the end of the data section"),
                bad("header lies about a tensor's size", 3, r,
                        d -> inspect(BadInputs.lyingHeader(good, d.resolve("m"), BadInputs.lastTensor(good), 0, -4)),
                        "tensor '" + "gpt_neox", "data_offsets"),
                bad("pickle checkpoint only", 3, r, d -> {
                    Path f = Files.createDirectories(d.resolve("m"));
                    Files.copy(good.resolve("config.json"), f.resolve("config.json"));
                    Files.write(f.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2, 0x7d});
                    return inspect(f);
                }, "pytorch_model.bin", "never loaded"),
                bad("model path that does not exist", 3, r, d -> inspect(d.resolve("no-such-model")),
                        "no-such-model", "does not exist"),
                bad("model path is a file", 3, r, d -> inspect(good.resolve("model.safetensors")),
                        "model.safetensors", "is a file; expected a Hugging Face model folder"),
                // Checkpoints: config.json.
                bad("config.json missing a key (hidden_size)", 3, r,
                        d -> inspect(BadInputs.withConfig(good, d.resolve("m"),
                                BadInputs.neoxWith(c -> c.remove("hidden_size")))),
                        "config.json", "hidden_size"),
                bad("config.json key of the wrong type", 3, r,
                        d -> inspect(BadInputs.withConfig(good, d.resolve("m"),
                                BadInputs.neoxWith(c -> c.put("num_attention_heads", "four")))),
                        "config.json", "num_attention_heads"),
                bad("config.json unknown model_type", 3, r,
                        d -> inspect(BadInputs.withConfig(good, d.resolve("m"),
                                BadInputs.neoxWith(c -> c.put("model_type", "mamba")))),
                        "config.json", "mamba"),
                bad("config.json not JSON", 3, r,
                        d -> inspect(BadInputs.withConfig(good, d.resolve("m"), "{\"model_type\": gpt_neox")),
                        "config.json", "not valid JSON"),
                bad("heads do not divide the width", 3, r,
                        d -> inspect(BadInputs.withConfig(good, d.resolve("m"),
                                BadInputs.neoxWith(c -> c.put("num_attention_heads", 3)))),
                        "config.json", "num_attention_heads"),
                // Checkpoints: tensors against the architecture, and their values.
                bad("missing tensor", 3, r,
                        d -> eval(BadInputs.model(d.resolve("m"), BadInputs.NEOX, 1,
                                Set.of("gpt_neox.layers.1.mlp.dense_4h_to_h.weight"), 0f), text),
                        "missing tensor 'gpt_neox.layers.1.mlp.dense_4h_to_h.weight'"),
                bad("tensor shape against config.json", 3, r,
                        d -> eval(BadInputs.withConfig(good, d.resolve("m"),
                                BadInputs.neoxWith(c -> c.put("intermediate_size", 48))), text),
                        "tensor 'gpt_neox.layers.0.mlp.dense_h_to_4h.weight' has shape [32, 16]; expected [48, 16]"),
                bad("NaN weights (eval)", 3, r,
                        d -> eval(BadInputs.model(d.resolve("m"), BadInputs.NEOX, 1, Set.of(), Float.NaN), text),
                        "holds NaN", "expected finite weights"),
                bad("infinite weights (forward)", 3, Leaves.NO_LOGITS,
                        d -> forward(d, BadInputs.model(d.resolve("m"), BadInputs.NEOX, 1, Set.of(),
                                Float.POSITIVE_INFINITY)),
                        "holds Infinity", "expected finite weights"),
                bad("NaN weights (merge, found on the executors)", 3, m,
                        d -> merge(d, "model-b=" + BadInputs.model(d.resolve("m"), BadInputs.NEOX, 2, Set.of(),
                                Float.NaN)),
                        "holds NaN", "expected finite weights"),
                bad("model B missing a tensor (merge)", 3, m,
                        d -> merge(d, "model-b=" + BadInputs.model(d.resolve("m"), BadInputs.NEOX, 2,
                                Set.of("gpt_neox.final_layer_norm.bias"), 0f)),
                        "missing tensor 'gpt_neox.final_layer_norm.bias'"),
                // Two models that cannot be aligned.
                bad("models of different families", 4, m,
                        d -> merge(d, "model-b=" + BadInputs.model(d.resolve("m"), BadInputs.LLAMA, 2)),
                        "different families", "gpt_neox", "llama"),
                bad("models of different widths", 4, m,
                        d -> merge(d, "model-b=" + BadInputs.model(d.resolve("m"),
                                BadInputs.neoxWith(c -> c.put("hidden_size", 32)), 2)),
                        "differ in config.json hidden_size: 16 vs 32"),
                bad("models with different head counts", 4, m,
                        d -> merge(d, "model-b=" + BadInputs.model(d.resolve("m"),
                                BadInputs.neoxWith(c -> c.put("num_attention_heads", 2)), 2)),
                        "differ in config.json num_attention_heads: 4 vs 2"),
                bad("models with different vocabulary sizes", 4, m,
                        d -> merge(d, "model-b=" + BadInputs.model(d.resolve("m"),
                                BadInputs.neoxWith(c -> c.put("vocab_size", 300)), 2)),
                        "differ in config.json vocab_size: 256 vs 300"),
                bad("models with different FFN widths", 4, m,
                        d -> merge(d, "model-b=" + BadInputs.model(d.resolve("m"),
                                BadInputs.neoxWith(c -> c.put("intermediate_size", 48)), 2)),
                        "differ in config.json intermediate_size: 32 vs 48"),
                bad("models with different layer counts", 4, m,
                        d -> merge(d, "model-b=" + BadInputs.model(d.resolve("m"),
                                BadInputs.neoxWith(c -> c.put("num_hidden_layers", 3)), 2)),
                        "differ in config.json num_hidden_layers: 2 vs 3"),
                bad("image classifiers in the merge job", 2, m,
                        d -> merge(d, "model-a=" + vit, "model-b=" + vit),
                        "lmc.model-a", "vit"),
                // Data.
                bad("empty dataset (text)", 3, r,
                        d -> eval(good, Files.writeString(d.resolve("empty.txt"), "")),
                        "empty.txt", "empty dataset"),
                bad("empty dataset (Parquet folder without parts)", 3, m,
                        d -> merge(d, "data.eval=" + Files.createDirectories(d.resolve("parquet-empty")),
                                "data.format=parquet"),
                        "lmc.data.eval", "parquet-empty"),
                bad("data shorter than one sequence", 3, m,
                        d -> merge(d, "data.eval=" + BadInputs.text(d.resolve("short.txt"), 10)),
                        "lmc.data.eval", "short.txt"),
                bad("sequences shorter than two tokens (npy rows of 1)", 3, r,
                        d -> eval(good, BadInputs.npyTokens(d.resolve("ones.npy"), new long[] {4, 1}, 7)),
                        "ones.npy", "sequences of 1 token", "at least 2 tokens"),
                bad("seq-len of 1", 2, m, d -> merge(d, "data.seq-len=1"),
                        "lmc.data.seq-len", "out of range"),
                bad("token ids beyond the vocabulary", 3, r,
                        d -> eval(good, BadInputs.npyTokens(d.resolve("big.npy"), new long[] {2, 8}, 5, 300)),
                        "big.npy", "token id 300"),
                bad("token ids of a float dtype", 3, r,
                        d -> eval(good, BadInputs.npyFloats(d.resolve("floats.npy"), new long[] {2, 8})),
                        "floats.npy", "int32 or int64"),
                bad("Parquet input_ids of the wrong type (string)", 3, r,
                        d -> eval(good, BadInputs.parquetStringIds(d.resolve("strings.parquet")), "--seq-len", "4"),
                        "strings.parquet", "input_ids"),
                bad("Parquet without an input_ids column", 3, r,
                        d -> eval(good, BadInputs.parquetWithoutIds(d.resolve("noids.parquet")), "--seq-len", "4"),
                        "noids.parquet", "input_ids"),
                bad("images that do not decode", 3, r,
                        d -> eval(vit, BadInputs.undecodableImages(d.resolve("junk.parquet"))),
                        "junk.parquet", "unreadable image"),
                bad("data path that does not exist", 3, m,
                        d -> merge(d, "data.eval=" + d.resolve("no-such-data.txt")),
                        "no-such-data.txt", "does not exist"),
                // Outputs.
                bad("output run folder exists, mode=error", 2, Leaves.OLD_RUN_UNTOUCHED, d -> {
                    Files.createDirectories(d.resolve("out/r1"));
                    Files.writeString(d.resolve("out/r1/marker"), "old");
                    return merge(d);
                }, "lmc.output.mode", "already exists"),
                bad("output path under a regular file", 2, m, d -> {
                    Files.writeString(d.resolve("file"), "x");
                    return new String[] {"merge", job.toString(), "output.path=" + d.resolve("file/out")};
                }, "lmc.output.path", "file/out/", "/file is a file; expected a folder"),
                bad("forward output under a regular file", 2, Leaves.NO_LOGITS, d -> {
                    Files.writeString(d.resolve("file"), "x");
                    String[] a = forward(d, good);
                    a[a.length - 1] = d.resolve("file/logits.npy").toString();
                    return a;
                }, "--out", "file/logits.npy cannot be created", "/file is a file"),
                bad("interpolate output folder exists", 2, Leaves.OLD_RUN_UNTOUCHED, d -> {
                    Files.createDirectories(d.resolve("out/r1"));
                    Files.writeString(d.resolve("out/r1/marker"), "old");
                    return new String[] {"interpolate", "--model-a", good.toString(), "--model-b", goodB.toString(),
                        "--alpha", "0.5", "--out", d.resolve("out/r1").toString()};
                }, "--out", "out/r1/ already exists", "--overwrite"),
                bad("interpolate output under a regular file", 2, m, d -> {
                    Files.writeString(d.resolve("file"), "x");
                    return new String[] {"interpolate", "--model-a", good.toString(), "--model-b", goodB.toString(),
                        "--alpha", "0.5", "--out", d.resolve("file/m").toString()};
                }, "--out", "/file is a file"),
                bad("interpolate models of different widths", 4, m, d -> new String[] {"interpolate",
                    "--model-a", good.toString(), "--model-b", BadInputs.model(d.resolve("m"),
                            BadInputs.neoxWith(c -> c.put("hidden_size", 32)), 2).toString(),
                    "--alpha", "0.5", "--out", d.resolve("out/r1").toString()},
                        "differ in config.json hidden_size: 16 vs 32"),
                bad("interpolate alpha outside [0, 1]", 2, m, d -> new String[] {"interpolate",
                    "--model-a", good.toString(), "--model-b", goodB.toString(), "--alpha", "1.5",
                    "--out", d.resolve("out/r1").toString()}, "--alpha", "1.5"),
                bad("forward input ids of a float dtype", 3, Leaves.NO_LOGITS, d -> {
                    String[] a = forward(d, good);
                    a[4] = BadInputs.npyFloats(d.resolve("x.npy"), new long[] {1, 8}).toString();
                    return a;
                }, "x.npy", "expected an int32 or int64 array"),
                // Job files and overrides.
                bad("job file with a typo in a key", 2, m, d -> {
                    Path f = d.resolve("typo.conf");
                    Files.writeString(f, "include \"" + job + "\"\nlmc.data.seqlen = 16\n");
                    return new String[] {"merge", f.toString(), "output.path=" + d.resolve("out")};
                }, "lmc.data.seqlen", "did you mean lmc.data.seq-len"),
                bad("override of the wrong type", 2, m, d -> merge(d, "align.steps=many"),
                        "lmc.align.steps", "\"many\""),
                bad("override of an unknown key", 2, m, d -> merge(d, "eval.alpha=3"),
                        "lmc.eval.alpha", "did you mean lmc.eval.alphas"),
                bad("override out of range", 2, m, d -> merge(d, "eval.alphas=1"),
                        "lmc.eval.alphas", "out of range"),
                bad("unknown method", 2, m, d -> merge(d, "align.methods=[magic]"),
                        "lmc.align.methods", "magic"),
                bad("job file that does not exist", 2, m,
                        d -> new String[] {"merge", d.resolve("nope.conf").toString()},
                        "nope.conf"),
                bad("job file that is not HOCON", 2, m, d -> {
                    Path f = d.resolve("broken.conf");
                    Files.writeString(f, "lmc { model-a = \n");
                    return new String[] {"merge", f.toString(), "output.path=" + d.resolve("out")};
                }, "broken.conf"),
                bad("required key not set", 2, m,
                        d -> new String[] {"merge", "model-a=" + good, "data.eval=" + text,
                            "output.path=" + d.resolve("out")},
                        "lmc.model-b", "required"),
                bad("S3 setting that is not fs.s3a.*", 2, m, d -> merge(d, "s3.endpoint=http://x"),
                        "lmc.s3"),
                bad("run id with a path separator", 2, m, d -> merge(d, "output.run-id=a/b"),
                        "lmc.output.run-id"),
                bad("unknown command", 2, r, d -> new String[] {"mergee", "x"}, "mergee"),
                bad("eval without --data", 2, r, d -> new String[] {"eval", "--model", good.toString()},
                        "--data"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void badInputExitsWithItsCodeAndMessageAndLeavesNoCompleteOutput(Case c) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("cases").resolve(c.name().replaceAll("[^A-Za-z0-9]+", "-")));
        String[] args = c.setup().args(dir);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        String e = err.toString();
        String first = e.lines().findFirst().orElse("");
        System.out.println("MATRIX | " + c.name() + " | " + args[0] + " | " + code + " | "
                + first.replace(tmp.toString(), "$TMP"));

        assertEquals(c.code(), code, () -> "exit code of '" + c.name() + "'; stderr:\n" + e);
        assertTrue(first.startsWith("lmc: error: "), () -> "one lmc: error: line first; stderr:\n" + e);
        for (String f : c.fragments()) {
            assertTrue(first.contains(f), () -> "expected \"" + f + "\" in the error line: " + first);
        }
        assertFalse(e.contains("\tat ") || e.contains("--debug (or"), () -> "no stack trace, no internal error: " + e);
        assertFalse(Files.exists(dir.resolve("out/r1/_SUCCESS")), "no _SUCCESS");
        try (Stream<Path> files = Files.walk(dir)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().equals("_SUCCESS")), "no _SUCCESS anywhere");
        }
        switch (c.leaves()) {
            case NO_RUN -> assertFalse(Files.exists(dir.resolve("out/r1")), "nothing at the run's final folder");
            case OLD_RUN_UNTOUCHED -> {
                try (Stream<Path> files = Files.list(dir.resolve("out/r1"))) {
                    assertEquals(List.of("marker"), files.map(p -> p.getFileName().toString()).toList());
                }
            }
            case NO_LOGITS -> {
                assertFalse(Files.exists(dir.resolve("logits.npy")), "no logits file");
                assertFalse(Files.exists(dir.resolve("file/logits.npy")), "no logits file");
            }
            case NO_RESULT -> assertEquals("", out.toString(), "nothing on stdout");
        }
    }

    // ---- bytes ------------------------------------------------------------------------------

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new java.util.Random(9).nextBytes(b);
        return b;
    }

    /** A safetensors file with this header (unpadded) and {@code dataBytes} zero bytes of data. */
    private static byte[] withLength(String header, int dataBytes) {
        byte[] h = header.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + h.length + dataBytes)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b.array();
    }
}
