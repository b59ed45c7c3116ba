package dev.lmcmerge.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lmcmerge.io.Npy;
import dev.lmcmerge.io.NpyArray;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.ModelConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hadoop.conf.Configuration;

/**
 * Peak resident memory of the whole merge job ({@code lmc merge}, local Spark, one JVM holding
 * driver and executor) on two random-weight checkpoints stored BF16 as sharded safetensors:
 * weight matching (one round), 2 dual steps, barrier evaluation at 3 alphas on a few sequences, and the merged
 * export (Parquet + Hugging Face). The child JVM's VmHWM is sampled from /proc every 200 ms (it
 * only grows, so the last sample is the peak up to 200 ms before exit). Pythia-1B shape; 160M with
 * --quick; {@code LMC_BENCH_MERGE_SHAPES=160m,410m,1b} picks shapes.
 */
final class MergeJobMemory {
    private MergeJobMemory() {
    }

    static List<Figure> run(BenchContext ctx) {
        String env = System.getenv("LMC_BENCH_MERGE_SHAPES");
        String shapes = env != null && !env.isBlank() ? env : ctx.quick ? "160m" : "1b";
        List<Figure> out = new ArrayList<>();
        for (String shape : shapes.split(",")) {
            out.add(runShape(shape.trim()));
        }
        return out;
    }

    static ObjectNode config(String shape) {
        return switch (shape) {
            case "160m" -> RandomModels.pythiaConfig(768, 12, 12, 3072, 50304);
            case "410m" -> RandomModels.pythiaConfig(1024, 24, 16, 4096, 50304);
            case "1b" -> RandomModels.pythiaConfig(2048, 16, 8, 8192, 50304);
            default -> throw new IllegalArgumentException("unknown shape " + shape + " (160m, 410m, 1b)");
        };
    }

    static Figure runShape(String shape) {
        Path dir;
        try {
            dir = Files.createTempDirectory("lmc-bench-merge");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            ObjectNode cfgJson = config(shape);
            ModelConfig cfg = ModelConfig.parse(cfgJson, "bench:" + shape);
            Architecture arch = RandomModels.arch(cfg);
            cfgJson.put("torch_dtype", "bfloat16");
            long t0 = System.nanoTime();
            long params = PeakMemory.writeBf16(dir.resolve("a"), cfgJson, arch, 1);
            PeakMemory.writeBf16(dir.resolve("b"), cfgJson, arch, 1_000_003);
            writeTokens(dir.resolve("tokens.npy"), 24, 128, cfg.vocabSize());
            Path job = dir.resolve("job.conf");
            Files.writeString(job, String.join("\n",
                    "lmc {",
                    "  model-a = \"" + dir.resolve("a") + "\"",
                    "  model-b = \"" + dir.resolve("b") + "\"",
                    // 24 sequences of 128 tokens: the last 8 held out (3 alphas x 2 batches of 4), 16 train
                    "  data { eval = \"" + dir.resolve("tokens.npy") + "\", seq-len = 128, batch-size = 4, eval-fraction = 0.34 }",
                    // FFN permutations are matched but not learned: learned, their n x n latents alone would
                    // take 4 GB per side at 1B, 4 times over on the driver (docs/cluster.md, "Sizing")
                    "  align { methods = [naive, weight-matching, dual], steps = 2, warmup = 0, checkpoint-every = 100,"
                            + " weight-matching-iterations = 1, learned-symmetries = [residual, heads, qk, vo, scale] }",
                    "  eval { alphas = 3, max-batches = 2 }",
                    "  output { path = \"" + dir.resolve("out") + "\", run-id = bench, mode = overwrite, merged-alphas = [0.5],"
                            + " shard-size = 2GB }",
                    // The cache keeps every form it made until it needs the room, so the peak follows this limit;
                    // at least 3 float32 copies of a model are needed at once (canonical A, original B,
                    // canonical B while canonicalizing B; a transformed side plus the other side's two forms
                    // while evaluating).
                    "  compute { cache-size = " + System.getenv().getOrDefault("LMC_BENCH_CACHE_SIZE", "13GB") + " }",
                    "}", ""));
            System.out.printf(Locale.ROOT, "shape %s: %d parameters, two BF16 checkpoints of %.2f GB written in %.0f s%n",
                    shape, params, params * 2 / 1e9, (System.nanoTime() - t0) / 1e9);
            long t1 = System.nanoTime();
            long hwmKb = runJob(job);
            double secs = (System.nanoTime() - t1) / 1e9;
            double peakGiB = hwmKb / (1024.0 * 1024.0);
            System.out.printf(Locale.ROOT, "shape %s: merge job %.0f s, peak resident %.2f GiB (f32 weights of one model %.2f GiB)%n",
                    shape, secs, peakGiB, params * 4 / (1024.0 * 1024 * 1024));
            return new Figure("peak_rss_merge_" + shape, peakGiB, "GiB");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            IoThroughput.delete(dir);
        }
    }

    static void writeTokens(Path file, int sequences, int seqLen, int vocab) {
        SplittableRandom rng = new SplittableRandom(42);
        long[] ids = new long[sequences * seqLen];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt(vocab);
        }
        Npy.write(new org.apache.hadoop.fs.Path(file.toUri()), new Configuration(),
                NpyArray.ofLongs(new long[] {sequences, seqLen}, ids));
    }

    /** Runs {@code lmc merge JOB} in a child JVM as bin/lmc would; returns its peak VmHWM in kB. */
    static long runJob(Path job) {
        String cp = System.getenv("LMC_BENCH_CLASSPATH");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + System.getenv().getOrDefault("LMC_BENCH_JOB_HEAP", "4g"));
        cmd.add("-XX:MaxDirectMemorySize=64g"); // as bin/lmc: the weight cache is direct memory
        String opens = System.getenv("LMC_BENCH_OPENS");
        if (opens != null && !opens.isBlank()) {
            cmd.addAll(List.of(opens.trim().split("\\s+")));
        }
        // One task slot, as on an executor of the wrappers (spark.executor.cores = spark.task.cpus):
        // local[*] would run two tasks at once, each with its own transformed copies of the models.
        cmd.addAll(List.of("-Dai.djl.offline=true", "-Dai.djl.default_engine=PyTorch", "-Dspark.ui.enabled=false",
                "-Dspark.master=local[1]",
                "-cp", cp, "dev.lmcmerge.cli.Main", "merge", job.toString()));
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            // As bin/lmc and the submit/ wrappers set them (unless the environment has its own).
            Map<String, String> env = pb.environment();
            env.putIfAbsent("MALLOC_ARENA_MAX", "2");
            env.putIfAbsent("MALLOC_MMAP_THRESHOLD_", "1048576");
            env.putIfAbsent("MALLOC_TRIM_THRESHOLD_", "1048576");
            Process p = pb.start();
            AtomicLong hwm = new AtomicLong();
            long started = System.nanoTime();
            Thread sampler = new Thread(() -> {
                Path status = Path.of("/proc", Long.toString(p.pid()), "status");
                long lastPrint = System.nanoTime();
                while (p.isAlive()) {
                    try {
                        for (String line : Files.readAllLines(status)) {
                            if (line.startsWith("VmHWM:")) {
                                hwm.accumulateAndGet(Long.parseLong(line.replaceAll("[^0-9]", "")), Math::max);
                            }
                        }
                        if (System.nanoTime() - lastPrint > 60_000_000_000L) {
                            // a long run shows where its peak was reached
                            lastPrint = System.nanoTime();
                            System.out.printf(Locale.ROOT, "  [%.0f s] peak resident so far %.2f GiB%n",
                                    (lastPrint - started) / 1e9, hwm.get() / 1048576.0);
                        }
                        Thread.sleep(200);
                    } catch (IOException | NumberFormatException e) {
                        return; // the process ended between isAlive and the read
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "vmhwm-sampler");
            sampler.setDaemon(true);
            sampler.start();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (!line.contains(" INFO ")) {
                        System.out.println("  job: " + line);
                    }
                }
            }
            int code = p.waitFor();
            sampler.join();
            if (code != 0) {
                throw new IllegalStateException("merge job failed with exit code " + code + " on " + job);
            }
            return hwm.get();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
