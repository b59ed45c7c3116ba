package dev.lmcmerge.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.Npy;
import dev.lmcmerge.io.NpyArray;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code lmc forward}: the reference cases' logits from the command line, and its usage errors. */
class ForwardCommandTest {
    @TempDir
    Path tmp;

    static final Path CASES = Path.of(System.getProperty("lmc.shared.dir", "../shared"), "reference-cases");

    record Run(int code, String out, String err) {}

    static Run lmc(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        if (!cl.getSubcommands().containsKey("forward")) {
            cl.addSubcommand(ForwardCommand.class);
        }
        int code = Main.execute(cl, new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    static NpyArray read(Path p) {
        return Npy.read(new org.apache.hadoop.fs.Path(p.toUri()), new Configuration());
    }

    static double maxAbsDiff(NpyArray a, NpyArray b) {
        assertArrayEquals(b.shape(), a.shape());
        float[] x = a.toFloats();
        float[] y = b.toFloats();
        double m = 0;
        for (int i = 0; i < x.length; i++) {
            m = Math.max(m, Math.abs(x[i] - y[i]));
        }
        return m;
    }

    @Test
    void languageModelLogitsMatchTransformersAndTheLossIsPrinted() {
        Path out = tmp.resolve("logits.npy");
        Run r = lmc("forward", "--model", CASES.resolve("models/gpt_neox").toString(),
                "--input-ids", CASES.resolve("arrays/lm_input_ids.npy").toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        NpyArray logits = read(out);
        assertEquals(DType.F32, logits.dtype());
        assertTrue(maxAbsDiff(logits, read(CASES.resolve("arrays/gpt_neox.logits.npy"))) <= 1e-4);
        assertTrue(r.out().contains("loss 6.4412"), r.out());
    }

    @Test
    void vitTakesPixelValues() {
        Path out = tmp.resolve("vit.npy");
        Run r = lmc("forward", "--model", CASES.resolve("models/vit").toString(),
                "--pixel-values", CASES.resolve("arrays/vit_pixel_values.npy").toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(maxAbsDiff(read(out), read(CASES.resolve("arrays/vit.logits.npy"))) <= 1e-4);
    }

    @Test
    void pixelValuesForALanguageModelIsAUsageError() {
        Run r = lmc("forward", "--model", CASES.resolve("models/llama").toString(),
                "--pixel-values", CASES.resolve("arrays/vit_pixel_values.npy").toString(),
                "--out", tmp.resolve("x.npy").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--input-ids"), r.err());
    }

    @Test
    void bothInputsAtOnceIsAUsageError() {
        Run r = lmc("forward", "--model", CASES.resolve("models/llama").toString(),
                "--input-ids", "a.npy", "--pixel-values", "b.npy", "--out", tmp.resolve("x.npy").toString());
        assertEquals(2, r.code());
    }

    @Test
    void tokenIdsOutOfVocabularyAreInvalidInput() {
        Path ids = tmp.resolve("ids.npy");
        Npy.write(new org.apache.hadoop.fs.Path(ids.toUri()), new Configuration(),
                NpyArray.ofInts(new long[] {1, 3}, new int[] {1, 2, 9999}));
        Run r = lmc("forward", "--model", CASES.resolve("models/gpt2").toString(),
                "--input-ids", ids.toString(), "--out", tmp.resolve("x.npy").toString());
        assertEquals(3, r.code());
        assertTrue(r.err().contains("9999"), r.err());
    }
}
