package dev.lmcmerge.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.HfCheckpointWriter;
import dev.lmcmerge.io.TensorBytes;
import dev.lmcmerge.io.TensorSource;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.ModelConfig;
import dev.lmcmerge.model.TensorSpec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.apache.hadoop.conf.Configuration;

/**
 * Peak resident memory of one process doing what an executor does for one model: load a
 * checkpoint of random weights stored BF16 as sharded safetensors, canonicalize it, apply a
 * transform of every slot group, and run a forward pass. Each shape runs in a fresh child JVM
 * ({@link MemoryChild}), which reports its own VmHWM from /proc/self/status; Pythia-160M and
 * -410M shapes, plus Pythia-1B without --quick.
 */
final class PeakMemory {
    private PeakMemory() {
    }

    record Shape(String name, ObjectNode config) {
    }

    static List<Figure> run(BenchContext ctx) {
        List<Shape> shapes = new ArrayList<>();
        shapes.add(new Shape("160m", RandomModels.pythiaConfig(768, 12, 12, 3072, 50304)));
        shapes.add(new Shape("410m", RandomModels.pythiaConfig(1024, 24, 16, 4096, 50304)));
        if (!ctx.quick) {
            shapes.add(new Shape("1b", RandomModels.pythiaConfig(2048, 16, 8, 8192, 50304)));
        }
        List<Figure> out = new ArrayList<>();
        System.out.printf("%-6s %12s %14s %12s %12s %s%n", "shape", "parameters", "checkpoint GB", "peak GiB",
                "f32 model GiB", "phases (s)");
        for (Shape s : shapes) {
            Path dir;
            try {
                dir = Files.createTempDirectory("lmc-bench-mem");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            try {
                ModelConfig cfg = ModelConfig.parse(s.config(), "bench:" + s.name());
                Architecture arch = RandomModels.arch(cfg);
                s.config().put("torch_dtype", "bfloat16");
                Path model = dir.resolve("model");
                long params = writeBf16(model, s.config(), arch, 1);
                String[] report = child(model);
                double peakGiB = Long.parseLong(report[0]) / (1024.0 * 1024.0); // VmHWM is in kB
                System.out.printf(Locale.ROOT, "%-6s %12d %14.2f %12.2f %12.2f %s%n", s.name(), params, params * 2 / 1e9,
                        peakGiB, params * 4 / (1024.0 * 1024 * 1024), report[1]);
                out.add(new Figure("peak_rss_" + s.name(), peakGiB, "GiB"));
            } finally {
                IoThroughput.delete(dir);
            }
        }
        return out;
    }

    /** Writes random BF16 weights (N(0, 0.02)-like; norms 1 and 0) in 1 GB shards; returns the parameter count. */
    static long writeBf16(Path folder, ObjectNode config, Architecture arch, long firstSeed) {
        List<TensorSource> sources = new ArrayList<>();
        long params = 0;
        long seed = firstSeed;
        for (TensorSpec t : arch.tensors()) {
            if (t.tied()) {
                continue;
            }
            long n = 1;
            for (long d : t.shape()) {
                n *= d;
            }
            params += n;
            boolean norm = t.role() == TensorSpec.Role.NORM;
            float constant = norm && t.name().endsWith("weight") ? 1f : 0f;
            boolean random = !norm && !t.name().endsWith("bias");
            long tensorSeed = seed++;
            long count = n;
            sources.add(TensorSource.of(t.name(), DType.BF16, t.shape(), () -> {
                // generated when the writer gets to this tensor: the whole model is never in memory
                ByteBuffer b = ByteBuffer.allocateDirect((int) (2 * count)).order(ByteOrder.LITTLE_ENDIAN);
                SplittableRandom rng = new SplittableRandom(tensorSeed);
                for (long i = 0; i < count; i++) {
                    float v = random ? (float) ((rng.nextDouble() - 0.5) * 0.07) : constant;
                    b.putShort(TensorBytes.floatToBf16(v));
                }
                b.flip();
                return b;
            }));
        }
        HfCheckpointWriter.to(new org.apache.hadoop.fs.Path(folder.toUri()), new Configuration())
                .maxShardBytes(1_000_000_000L).write(config, sources);
        return params;
    }

    /** Runs {@link MemoryChild} on {@code model}; returns its VmHWM (kB) and phase timings. */
    static String[] child(Path model) {
        String cp = System.getenv("LMC_BENCH_CLASSPATH");
        if (cp == null) {
            cp = System.getProperty("java.class.path");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + System.getProperty("lmc.bench.childHeap", "6g"));
        String opens = System.getenv("LMC_BENCH_OPENS");
        if (opens != null && !opens.isBlank()) {
            cmd.addAll(List.of(opens.trim().split("\\s+")));
        }
        cmd.addAll(List.of("-Dai.djl.offline=true", "-Dai.djl.default_engine=PyTorch", "-cp", cp,
                MemoryChild.class.getName(), model.toString()));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String hwm = null;
            String phases = "";
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("VmHWM_kB ")) {
                        hwm = line.substring(9).trim();
                    } else if (line.startsWith("phases ")) {
                        phases = line.substring(7).trim();
                    } else {
                        System.out.println("  child: " + line);
                    }
                }
            }
            if (p.waitFor() != 0 || hwm == null) {
                throw new IllegalStateException("memory child failed on " + model);
            }
            return new String[] {hwm, phases};
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
