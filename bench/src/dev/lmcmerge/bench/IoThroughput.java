package dev.lmcmerge.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lmcmerge.dist.ParquetTensors;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.io.HfCheckpointWriter;
import dev.lmcmerge.io.TensorSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;

/**
 * Checkpoint I/O against the operating system's own copy tools, measured in the same run with a
 * warm page cache: reading every tensor of a 2 GB safetensors checkpoint (512 MB with --quick)
 * through {@link HfCheckpoint} against {@code cat FILE > /dev/null}, and writing the same tensors
 * as a checkpoint folder through {@link HfCheckpointWriter} against {@code cp} (and as the merged
 * checkpoint's Parquet form through {@link ParquetTensors}, against the same {@code cp}). The data is random
 * float32 (no sparse file, nothing compressible), written once to a temporary folder that is
 * deleted at the end.
 */
final class IoThroughput {
    private static final int TENSOR_FLOATS = 16 << 20; // 64 MB tensors, like large weight matrices

    private IoThroughput() {
    }

    static List<Figure> run(BenchContext ctx) {
        long bytes = ctx.quick ? 512L << 20 : 2L << 30;
        int count = (int) (bytes / (4L * TENSOR_FLOATS));
        Configuration conf = new Configuration();
        Path tmp;
        try {
            tmp = Files.createTempDirectory("lmc-bench-io");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Path src = tmp.resolve("src");
            List<float[]> data = new ArrayList<>();
            SplittableRandom rng = new SplittableRandom(1);
            for (int i = 0; i < count; i++) {
                float[] v = new float[TENSOR_FLOATS];
                for (int j = 0; j < v.length; j++) {
                    v[j] = (float) (rng.nextDouble() - 0.5);
                }
                data.add(v);
            }
            write(src, data, conf);
            Path file = src.resolve("model.safetensors");
            long size = file.toFile().length();
            int reps = ctx.quick ? 3 : 5;
            shell("cat '" + file + "' > /dev/null"); // warm the cache
            double cat = BenchContext.medianSeconds(1, reps, () -> shell("cat '" + file + "' > /dev/null"));
            double[] checksum = new double[1];
            double read = BenchContext.medianSeconds(1, reps, () -> {
                try (HfCheckpoint ck = HfCheckpoint.open(new org.apache.hadoop.fs.Path(src.toUri()), conf)) {
                    for (String name : ck.tensors().keySet()) {
                        float[] v = ck.readFloat32(name);
                        checksum[0] += v[v.length - 1]; // keep the decode from being optimized away
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            byte[] chunk = new byte[1 << 20];
            double raw = BenchContext.medianSeconds(1, reps, () -> {
                try (HfCheckpoint ck = HfCheckpoint.open(new org.apache.hadoop.fs.Path(src.toUri()), conf)) {
                    for (String name : ck.tensors().keySet()) {
                        ByteBuffer b = ck.read(name);
                        while (b.hasRemaining()) {
                            int n = Math.min(chunk.length, b.remaining());
                            b.get(chunk, 0, n);
                        }
                        checksum[0] += chunk[0];
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            Path dst = tmp.resolve("dst");
            Path cpDst = tmp.resolve("cp.safetensors");
            double cp = BenchContext.medianSeconds(1, reps, () -> {
                shell("cp '" + file + "' '" + cpDst + "'");
                delete(cpDst);
            });
            double writeTime = BenchContext.medianSeconds(1, reps, () -> {
                write(dst, data, conf);
                delete(dst);
            });
            Path parquet = tmp.resolve("merged.parquet");
            double parquetTime = BenchContext.medianSeconds(1, reps, () -> {
                ParquetTensors.write(new org.apache.hadoop.fs.Path(parquet.toUri()), conf, sources(data));
                delete(parquet);
            });
            double gb = size / 1e9;
            System.out.printf("checkpoint: one safetensors file, %d float32 tensors, %.2f GB, warm page cache%n", count, gb);
            System.out.printf("%-52s %10s %10s%n", "operation", "seconds", "GB/s");
            System.out.printf("%-52s %10.3f %10.2f%n", "cat FILE > /dev/null", cat, gb / cat);
            System.out.printf("%-52s %10.3f %10.2f%n", "HfCheckpoint: every tensor as float32 (readFloat32)", read, gb / read);
            System.out.printf("%-52s %10.3f %10.2f%n", "HfCheckpoint: every tensor's bytes (read + copy out)", raw, gb / raw);
            System.out.printf("%-52s %10.3f %10.2f%n", "cp FILE COPY", cp, gb / cp);
            System.out.printf("%-52s %10.3f %10.2f%n", "HfCheckpointWriter: the tensors from memory", writeTime, gb / writeTime);
            System.out.printf("%-52s %10.3f %10.2f%n", "ParquetTensors: the same, as the merged Parquet form", parquetTime,
                    gb / parquetTime);
            System.out.printf("(checksum %.3f)%n", checksum[0]);
            return List.of(
                    new Figure("io_read_gbps", gb / read, "GB/s"),
                    new Figure("io_cat_gbps", gb / cat, "GB/s"),
                    new Figure("io_read_vs_cat", cat / read, "ratio"),
                    new Figure("io_read_raw_vs_cat", cat / raw, "ratio"),
                    new Figure("io_write_gbps", gb / writeTime, "GB/s"),
                    new Figure("io_cp_gbps", gb / cp, "GB/s"),
                    new Figure("io_write_vs_cp", cp / writeTime, "ratio"),
                    new Figure("io_write_parquet_gbps", gb / parquetTime, "GB/s"),
                    new Figure("io_write_parquet_vs_cp", cp / parquetTime, "ratio"));
        } finally {
            delete(tmp);
        }
    }

    private static List<TensorSource> sources(List<float[]> data) {
        List<TensorSource> sources = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) {
            sources.add(TensorSource.ofFloats(String.format("layers.%03d.weight", i), new long[] {4096, TENSOR_FLOATS / 4096},
                    data.get(i), DType.F32));
        }
        return sources;
    }

    private static void write(Path folder, List<float[]> data, Configuration conf) {
        List<TensorSource> sources = sources(data);
        ObjectNode config = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        config.put("model_type", "bench");
        HfCheckpointWriter.to(new org.apache.hadoop.fs.Path(folder.toUri()), conf)
                .maxShardBytes(Long.MAX_VALUE).write(config, sources);
    }

    static void shell(String command) {
        try {
            Process p = new ProcessBuilder("bash", "-c", command).inheritIO().start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException("command failed: " + command);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static void delete(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
