package dev.lmcmerge.bench;

import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The same dual step in PyTorch eager ({@code bench/reference/step.py}, same shape, batch and
 * thread count) and our step time over its time. Runs only where {@code python3 -c "import torch"}
 * works; otherwise says why it is skipped. Our time is the {@code step} benchmark's from this run
 * (measured now if {@code step} was not run).
 */
final class PyTorchReference {
    private PyTorchReference() {
    }

    static List<Figure> run(BenchContext ctx) {
        String why = torchMissing();
        if (why != null) {
            System.out.println("skipped: " + why);
            return List.of();
        }
        Double ours = ctx.recorded("step_seconds");
        if (ours == null) {
            DualStep.run(ctx);
            ours = ctx.recorded("step_seconds");
        }
        int threads;
        try (NDManager m = NDManager.newBaseManager()) {
            threads = JniUtils.getNumThreads(); // libtorch's intra-op threads in this JVM
        }
        DualStep.Setup s = DualStep.setup(ctx);
        Path script = Path.of(System.getenv().getOrDefault("LMC_BENCH_ROOT", "."), "bench", "reference", "step.py");
        List<String> cmd = new ArrayList<>(List.of("python3", script.toString(),
                "--d", "" + s.cfg().hiddenSize(), "--layers", "" + s.cfg().numLayers(), "--heads", "" + s.cfg().numHeads(),
                "--ffn", "" + s.cfg().intermediateSize(), "--vocab", "" + s.cfg().vocabSize(),
                "--batch", "" + s.batch(), "--seq", "" + s.seq(), "--threads", "" + threads,
                "--reps", ctx.quick ? "3" : "5"));
        JsonNode r = runJson(cmd);
        double theirs = r.get("seconds").asDouble();
        System.out.printf("PyTorch %s eager, %d threads, batch %d x seq %d: %.3f s per step (loss %.3f)%n",
                r.get("torch").asText(), r.get("threads").asInt(), s.batch(), s.seq(), theirs, r.get("loss").asDouble());
        System.out.printf("lmc-merge step (the merge job's choice, this run): %.3f s; ours / theirs = %.2f%n", ours, ours / theirs);
        return List.of(new Figure("step_pytorch_seconds_160m", theirs, "s"),
                new Figure("step_vs_pytorch", ours / theirs, "ratio"));
    }

    /** Null if python3 can import torch, else the reason it cannot. */
    static String torchMissing() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import torch").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor() != 0) {
                String last = out.isEmpty() ? "exit " + p.exitValue() : out.substring(out.lastIndexOf('\n') + 1);
                return "python3 -c \"import torch\" failed (" + last + "); install torch to run the reference";
            }
            return null;
        } catch (IOException e) {
            return "no python3 on the PATH (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private static JsonNode runJson(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String last = null;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("{")) {
                        last = line;
                    } else {
                        System.out.println("  step.py: " + line);
                    }
                }
            }
            if (p.waitFor() != 0 || last == null) {
                throw new IllegalStateException("bench/reference/step.py failed (exit " + p.exitValue() + ")");
            }
            return new ObjectMapper().readTree(last);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
