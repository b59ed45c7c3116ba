package dev.lmcmerge.dist;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.FileSystems;
import dev.lmcmerge.io.SafetensorsWriter;
import dev.lmcmerge.io.ShardPlan;
import dev.lmcmerge.io.TensorInfo;
import dev.lmcmerge.io.TensorSource;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.HfExporter;
import dev.lmcmerge.symmetry.Interpolation;
import dev.lmcmerge.symmetry.TransformSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;

/**
 * Writes the merged checkpoint at one alpha (DESIGN.md section 7), by executors in parallel:
 * {@code merged/alpha=A/hf/} is a Hugging Face folder of the original architecture (each
 * safetensors shard written by its own task; {@code config.json}, the index and the tokenizer
 * files of model A by the driver), and {@code merged/alpha=A/parquet/} holds the same tensors as
 * Parquet rows ({@link ParquetTensors}), the tensor list split into ranges across tasks.
 * Every task interpolates only its own tensors, one at a time, from the cached endpoints.
 */
public final class MergedCheckpointJob {
    private MergedCheckpointJob() {}

    /** One task: write {@code names} to {@code file} as safetensors ({@code hf}) or Parquet. */
    record Item(boolean hf, String file, List<String> names) implements Serializable {}

    /** A task's report: the norm eps factor of the merged model (same for every task). */
    record Written(String file, long bytes, double epsFactor) implements Serializable {}

    /** What was written. */
    public record Result(Path folder, String method, double alpha, int hfShards, int parquetParts, long bytes) {}

    /** The folder name of an alpha: {@code alpha=0.50}, {@code alpha=0.125}. */
    public static String folderName(double alpha) {
        BigDecimal d = new BigDecimal(Double.toString(alpha)).stripTrailingZeros();
        if (d.scale() < 2) {
            d = d.setScale(2);
        }
        return "alpha=" + d.toPlainString();
    }

    /**
     * Writes the merged model of {@code ends} at {@code alpha} into {@code folder}
     * ({@code .../merged/alpha=A}).
     *
     * @param parallelism tasks for the Parquet parts
     */
    public static Result run(JavaSparkContext sc, JobContext ctx, MergePlan plan, Endpoints ends, double alpha,
                             Path folder, boolean writeHf, boolean writeParquet, int parallelism, Configuration conf,
                             List<Path> tokenizerFiles, ObjectNode configA) {
        TransformSpec spec = plan.spec();
        DType dtype = exportDType(plan.modelA());
        List<TensorInfo> infos = new ArrayList<>();
        for (String name : spec.rules().keySet()) {
            infos.add(TensorInfo.of(name, dtype, plan.shapes().get(name)));
        }
        ShardPlan shards = ShardPlan.plan(infos, plan.job().output().shardSizeBytes());
        List<Item> items = new ArrayList<>();
        Path hf = new Path(folder, "hf");
        Path pq = new Path(folder, "parquet");
        if (writeHf) {
            for (ShardPlan.Shard s : shards.shards()) {
                items.add(new Item(true, new Path(hf, s.fileName()).toString(),
                        s.tensors().stream().map(TensorInfo::name).toList()));
            }
        }
        int parts = 0;
        if (writeParquet) {
            List<List<String>> ranges = byteRanges(infos, Math.max(1, parallelism));
            for (List<String> r : ranges) {
                items.add(new Item(false, new Path(pq, String.format("part-%05d.parquet", parts++)).toString(), r));
            }
        }
        FileSystem fs = FileSystems.fs(folder, conf);
        try {
            fs.mkdirs(writeHf ? hf : folder);
            if (writeParquet) {
                fs.mkdirs(pq);
            }
        } catch (IOException e) {
            throw FileSystems.ioError(folder.toString(), "cannot create the merged checkpoint folder", e);
        }
        sc.setJobDescription("write merged " + ends.method() + " checkpoint at alpha " + alpha + ": "
                + items.size() + " files");
        Broadcast<Endpoints> bends = sc.broadcast(ends);
        List<Written> written;
        try {
            written = sc.parallelize(items, Math.max(1, items.size()))
                    .map(new Task(ctx, bends, alpha, dtype.safetensorsName())).collect();
        } finally {
            bends.destroy();
        }
        long bytes = written.stream().mapToLong(Written::bytes).sum();
        double eps = written.isEmpty() ? 1.0 : written.get(0).epsFactor();
        if (writeHf) {
            writeDriverFiles(hf, fs, conf, spec, configA, eps, dtype, shards, tokenizerFiles);
        }
        return new Result(folder, ends.method(), alpha, writeHf ? shards.shards().size() : 0, parts, bytes);
    }

    /** config.json (stock architecture, eps adjusted if residual scales were used), index, tokenizer files. */
    private static void writeDriverFiles(Path hf, FileSystem fs, Configuration conf, TransformSpec spec,
                                         ObjectNode configA, double eps, DType dtype, ShardPlan shards,
                                         List<Path> tokenizerFiles) {
        try {
            if (shards.sharded()) {
                writeText(fs, new Path(hf, ShardPlan.INDEX_FILE), shards.indexJson());
            }
            for (Path src : tokenizerFiles) {
                FileSystem srcFs = FileSystems.fs(src, conf);
                try (InputStream in = srcFs.open(src); OutputStream out = fs.create(new Path(hf, src.getName()), true)) {
                    in.transferTo(out);
                }
            }
            HfExporter exporter = new HfExporter(spec, configA).dtype(dtype);
            if (Math.abs(eps - 1.0) > 0) {
                exporter.epsScale(eps);
            }
            ObjectNode cfg = exporter.exportedConfig();
            writeText(fs, new Path(hf, "config.json"),
                    new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(cfg) + "\n");
        } catch (IOException e) {
            throw FileSystems.ioError(hf.toString(), "cannot write the merged checkpoint's config and tokenizer", e);
        }
    }

    private static void writeText(FileSystem fs, Path file, String text) throws IOException {
        try (OutputStream out = fs.create(file, true)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** BF16 or F16 when every floating tensor of model A is stored so (a half-precision model stays half-size), else F32. */
    static DType exportDType(ModelHeader a) {
        if (a.dtypes().size() == 1) {
            String only = a.dtypes().keySet().iterator().next();
            if (only.equals("BF16")) {
                return DType.BF16;
            }
            if (only.equals("F16")) {
                return DType.F16;
            }
        }
        return DType.F32;
    }

    /** Contiguous runs of tensors of about equal bytes, at most {@code parts} of them. */
    static List<List<String>> byteRanges(List<TensorInfo> infos, int parts) {
        long total = 0;
        for (TensorInfo t : infos) {
            total += t.byteLength();
        }
        int p = Math.max(1, Math.min(parts, infos.size()));
        List<List<String>> out = new ArrayList<>();
        List<String> cur = new ArrayList<>();
        long acc = 0;
        for (TensorInfo t : infos) {
            cur.add(t.name());
            acc += t.byteLength();
            if (out.size() < p - 1 && acc * p >= total * (out.size() + 1)) {
                out.add(cur);
                cur = new ArrayList<>();
            }
        }
        if (!cur.isEmpty()) {
            out.add(cur);
        }
        return out;
    }

    static final class Task implements Function<Item, Written> {
        private final JobContext ctx;
        private final Broadcast<Endpoints> ends;
        private final double alpha;
        private final String dtype;

        Task(JobContext ctx, Broadcast<Endpoints> ends, double alpha, String dtype) {
            this.ctx = ctx;
            this.ends = ends;
            this.alpha = alpha;
            this.dtype = dtype;
        }

        @Override
        public Written call(Item item) {
            DType dt = DType.fromSafetensors(dtype, "merged checkpoint dtype");
            try (TaskScope ts = TaskScope.open(ctx); PathParts path = new PathParts(ctx, ends.value(), ts.manager());
                 CurrentPart current = new CurrentPart(path, item.names(), alpha, ts.manager())) {
                List<TensorSource> sources = new ArrayList<>();
                for (String name : item.names()) {
                    sources.add(TensorSource.ofFloats(name, dt, path.shape(name), () -> current.values(name)));
                }
                Configuration conf = ctx.hadoopConf();
                Path file = new Path(item.file());
                long bytes;
                if (item.hf()) {
                    SafetensorsWriter.write(file, conf, sources);
                    bytes = sources.stream().mapToLong(s -> s.info().byteLength()).sum();
                } else {
                    bytes = ParquetTensors.write(file, conf, sources);
                }
                double eps = path.epsA == 1 && path.epsB == 1 ? 1.0 : Interpolation.epsScale(path.epsA, path.epsB, alpha);
                return new Written(item.file(), bytes, eps);
            }
        }
    }

    /**
     * The merged weights of the part (embedding, block, head) that the writer is at: the writers
     * ask for tensors in file order, which follows the model's, so each part is made once and
     * freed when the writer moves on. Only the part's tensors this file holds are made.
     */
    private static final class CurrentPart implements AutoCloseable {
        private final PathParts path;
        private final List<String> fileNames;
        private final double alpha;
        private final NDManager manager;
        private int index = -1;
        private NDManager scope;
        private Weights weights;

        CurrentPart(PathParts path, List<String> fileNames, double alpha, NDManager manager) {
            this.path = path;
            this.fileNames = fileNames;
            this.alpha = alpha;
            this.manager = manager;
        }

        float[] values(String name) {
            // Called by the writers while the file is open, one tensor at a time (tests stop a datanode here).
            FaultInjection.check("merged-tensor");
            int part = path.parts.partOf(name);
            if (part != index) {
                close();
                List<String> names = new ArrayList<>(path.parts.part(part));
                names.retainAll(fileNames);
                scope = manager.newSubManager();
                weights = path.at(alpha, names, scope);
                index = part;
            }
            return weights.get(name).toType(DataType.FLOAT32, false).toFloatArray();
        }

        @Override
        public void close() {
            if (scope != null) {
                scope.close();
                scope = null;
                index = -1;
            }
        }
    }
}
