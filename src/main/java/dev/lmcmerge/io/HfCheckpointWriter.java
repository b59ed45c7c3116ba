package dev.lmcmerge.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Writes a Hugging Face model folder: {@code config.json}, the tensors as one
 * {@code model.safetensors} or, above the maximum shard size, as
 * {@code model-0000i-of-0000N.safetensors} plus {@code model.safetensors.index.json}, and
 * copies of the given tokenizer files.
 *
 * <p>A failed write never leaves a folder that looks complete: files are written into a hidden
 * staging folder next to the target ({@code .NAME.tmp-UUID}) and the folder is renamed into place
 * at the end. On object stores, where renaming a folder is a non-atomic copy, files are written in
 * place instead, weights first and {@code config.json} last, so a folder missing its config (which
 * {@link HfCheckpoint#open} refuses) is all a failure can leave.
 */
public final class HfCheckpointWriter {
    /** transformers' default {@code max_shard_size} ("5GB", decimal). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

    /** Schemes whose folder rename is a copy, not an atomic rename. */
    private static final Set<String> OBJECT_STORES = Set.of("s3a", "s3", "s3n", "gs", "oss", "cos", "cosn", "obs");

    private final Path target;
    private final Configuration conf;
    private long maxShardBytes = DEFAULT_MAX_SHARD_BYTES;
    private boolean overwrite;
    private List<Path> tokenizerFiles = List.of();

    private HfCheckpointWriter(Path target, Configuration conf) {
        this.target = target;
        this.conf = conf;
    }

    /** A writer for the folder at {@code location} (see {@link FileSystems#resolve}). */
    public static HfCheckpointWriter to(String location, Configuration conf) {
        return new HfCheckpointWriter(FileSystems.resolve(location), conf);
    }

    /** A writer for the folder {@code folder}. */
    public static HfCheckpointWriter to(Path folder, Configuration conf) {
        return new HfCheckpointWriter(folder, conf);
    }

    /** Maximum bytes of tensor data per file; above it the checkpoint is sharded. */
    public HfCheckpointWriter maxShardBytes(long bytes) {
        if (bytes <= 0) {
            throw LmcException.usage("max shard size", "must be positive, got " + bytes);
        }
        this.maxShardBytes = bytes;
        return this;
    }

    /** Replace an existing folder (default: an existing folder is an error). */
    public HfCheckpointWriter overwrite(boolean overwrite) {
        this.overwrite = overwrite;
        return this;
    }

    /** Files copied into the folder under their own names (e.g. {@link HfCheckpoint#tokenizerFiles()}). */
    public HfCheckpointWriter tokenizerFiles(List<Path> files) {
        this.tokenizerFiles = List.copyOf(files);
        return this;
    }

    /**
     * Writes the folder, pulling each tensor's bytes only when its file is written.
     *
     * @param config  the {@code config.json} content
     * @param tensors tensors in model order (the order shards are filled in)
     * @return the plan that was written (file names and their tensors)
     */
    public ShardPlan write(JsonNode config, List<? extends TensorSource> tensors) {
        Map<String, TensorSource> byName = new HashMap<>();
        List<TensorInfo> infos = new ArrayList<>();
        for (TensorSource s : tensors) {
            if (byName.put(s.info().name(), s) != null) {
                throw new IllegalArgumentException("tensor '" + s.info().name() + "' given twice");
            }
            infos.add(s.info());
        }
        ShardPlan plan = ShardPlan.plan(infos, maxShardBytes);
        FileSystem fs = FileSystems.fs(target, conf);
        String where = target.toString();
        boolean inPlace = OBJECT_STORES.contains(String.valueOf(target.toUri().getScheme()));
        try {
            if (fs.exists(target)) {
                if (!overwrite) {
                    throw LmcException.invalidInput(where, "already exists; expected a new output folder"
                            + " (or allow overwriting)");
                }
                if (inPlace) {
                    fs.delete(target, true);
                }
            }
            Path dir = inPlace ? target
                    : new Path(target.getParent(), "." + target.getName() + ".tmp-" + UUID.randomUUID());
            try {
                writeInto(dir, fs, plan, byName, config);
                if (!inPlace) {
                    if (fs.exists(target)) {
                        fs.delete(target, true);
                    }
                    if (!fs.rename(dir, target)) {
                        throw new IOException("rename of " + dir + " to " + target + " failed");
                    }
                }
            } catch (IOException | RuntimeException e) {
                if (!inPlace) {
                    deleteQuietly(fs, dir);
                }
                throw e;
            }
        } catch (IOException e) {
            throw FileSystems.ioError(where, "cannot write checkpoint folder", e);
        }
        return plan;
    }

    private void writeInto(Path dir, FileSystem fs, ShardPlan plan, Map<String, TensorSource> byName,
                           JsonNode config) throws IOException {
        if (!fs.mkdirs(dir)) {
            throw new IOException("cannot create folder " + dir);
        }
        for (ShardPlan.Shard shard : plan.shards()) {
            List<TensorSource> sources = new ArrayList<>(shard.tensors().size());
            for (TensorInfo t : shard.tensors()) {
                sources.add(byName.get(t.name()));
            }
            SafetensorsWriter.write(new Path(dir, shard.fileName()), conf, sources);
        }
        if (plan.sharded()) {
            writeText(fs, new Path(dir, ShardPlan.INDEX_FILE), plan.indexJson());
        }
        for (Path src : tokenizerFiles) {
            copy(src, new Path(dir, src.getName()), fs);
        }
        try {
            writeText(fs, new Path(dir, HfCheckpoint.CONFIG_FILE), Json.pretty(config) + "\n");
        } catch (JsonProcessingException e) {
            throw new LmcException(ExitCode.FAILURE, target + ": cannot serialize config.json: " + e.getMessage(), e);
        }
    }

    private static void writeText(FileSystem fs, Path file, String text) throws IOException {
        try (OutputStream out = fs.create(file, true)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    private void copy(Path src, Path dst, FileSystem dstFs) throws IOException {
        FileSystem srcFs = FileSystems.fs(src, conf);
        try (InputStream in = srcFs.open(src); OutputStream out = dstFs.create(dst, true)) {
            byte[] buf = new byte[TensorSource.CHUNK];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
        }
    }

    private static void deleteQuietly(FileSystem fs, Path dir) {
        try {
            fs.delete(dir, true);
        } catch (IOException ignored) {
            // the original failure is the one to report; the staging folder is hidden
        }
    }
}
