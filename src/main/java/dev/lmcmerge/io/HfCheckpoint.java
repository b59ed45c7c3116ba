package dev.lmcmerge.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lmcmerge.config.LmcException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A Hugging Face model folder on any Hadoop file system: {@code config.json} plus either
 * {@code model.safetensors} or {@code model.safetensors.index.json} and its shards.
 *
 * <p>Everything is validated when the folder is opened (every shard header, the index against
 * the shards), so a bad checkpoint fails before any work. Tensor data is read on demand, one
 * tensor at a time; shard readers are opened on first use and closed by {@link #close()}.
 * Pickle checkpoints are refused, never opened: unpickling runs arbitrary code.
 */
public final class HfCheckpoint implements Closeable {
    /** Files copied next to a written checkpoint so it stays loadable with its tokenizer. */
    public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "vocab.json", "merges.txt", "tokenizer.model",
            "preprocessor_config.json", "generation_config.json");

    static final String CONFIG_FILE = "config.json";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path folder;
    private final Configuration conf;
    private final JsonNode config;
    private final List<Path> shards;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, Path> shardOf;
    private final List<Path> tokenizerFiles;
    private final Map<Path, SafetensorsReader> readers = new LinkedHashMap<>();
    private boolean closed;

    private HfCheckpoint(Path folder, Configuration conf, JsonNode config, List<Path> shards,
                         Map<String, TensorInfo> tensors, Map<String, Path> shardOf, List<Path> tokenizerFiles) {
        this.folder = folder;
        this.conf = conf;
        this.config = config;
        this.shards = shards;
        this.tensors = tensors;
        this.shardOf = shardOf;
        this.tokenizerFiles = tokenizerFiles;
    }

    /**
     * Opens and validates a model folder.
     *
     * @param location a folder location (see {@link FileSystems#resolve})
     * @throws LmcException INVALID_INPUT naming the file at fault if anything is missing or malformed
     */
    public static HfCheckpoint open(String location, Configuration conf) {
        return open(FileSystems.resolve(location), conf);
    }

    /** As {@link #open(String, Configuration)} for a resolved path. */
    public static HfCheckpoint open(Path folder, Configuration conf) {
        FileStatus st = FileSystems.requireExists(folder, conf, "model folder");
        if (!st.isDirectory()) {
            throw LmcException.invalidInput(folder.toString(),
                    "is a file; expected a Hugging Face model folder (config.json and model.safetensors)");
        }
        folder = st.getPath();
        FileSystem fs = FileSystems.fs(folder, conf);
        Map<String, FileStatus> files = list(fs, folder);
        // The files read must be files: a folder named like one would otherwise surface as an I/O failure.
        for (String name : List.of(ShardPlan.SINGLE_FILE, ShardPlan.INDEX_FILE, CONFIG_FILE)) {
            requireFile(files, name, folder);
        }

        Path single = new Path(folder, ShardPlan.SINGLE_FILE);
        Path index = new Path(folder, ShardPlan.INDEX_FILE);
        boolean hasSingle = files.containsKey(ShardPlan.SINGLE_FILE);
        boolean hasIndex = files.containsKey(ShardPlan.INDEX_FILE);
        if (!hasSingle && !hasIndex) {
            refuseWithoutSafetensors(folder, files);
        }
        if (!files.containsKey(CONFIG_FILE)) {
            throw LmcException.invalidInput(new Path(folder, CONFIG_FILE).toString(),
                    "missing; a Hugging Face model folder needs config.json next to its weights");
        }
        JsonNode config = readJsonObject(new Path(folder, CONFIG_FILE), fs, "config.json");

        List<Path> shards = new ArrayList<>();
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, Path> shardOf = new LinkedHashMap<>();
        // Like transformers, a single model.safetensors wins over an index.
        if (hasSingle) {
            shards.add(single);
            try (SafetensorsReader r = SafetensorsReader.open(single, conf)) {
                for (TensorInfo t : r.tensors().values()) {
                    tensors.put(t.name(), t);
                    shardOf.put(t.name(), single);
                }
            } catch (IOException e) {
                throw FileSystems.ioError(single.toString(), "cannot close", e);
            }
        } else {
            readIndexed(folder, index, fs, files, conf, shards, tensors, shardOf);
        }
        List<Path> tok = new ArrayList<>();
        for (String name : TOKENIZER_FILES) {
            if (files.containsKey(name) && files.get(name).isFile()) {
                tok.add(files.get(name).getPath());
            }
        }
        return new HfCheckpoint(folder, conf, config, Collections.unmodifiableList(shards),
                Collections.unmodifiableMap(tensors), shardOf, Collections.unmodifiableList(tok));
    }

    private static void readIndexed(Path folder, Path index, FileSystem fs, Map<String, FileStatus> files,
                                    Configuration conf, List<Path> shards, Map<String, TensorInfo> tensors,
                                    Map<String, Path> shardOf) {
        String where = index.toString();
        JsonNode root = readJsonObject(index, fs, "index");
        JsonNode weightMap = root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw LmcException.invalidInput(where, "has no \"weight_map\" object; expected {\"metadata\": {...}, "
                    + "\"weight_map\": {tensor name: shard file}}");
        }
        if (weightMap.isEmpty()) {
            throw LmcException.invalidInput(where, "\"weight_map\" is empty; expected at least one tensor");
        }
        // shard file name -> tensor names the index puts there (shards sorted by name: 00001, 00002, ...)
        Map<String, List<String>> byShard = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            JsonNode v = e.getValue();
            if (!v.isTextual()) {
                throw LmcException.invalidInput(where, "weight_map value for '" + e.getKey() + "' is " + v
                        + "; expected a shard file name");
            }
            String file = v.textValue();
            checkSiblingName(file, e.getKey(), where);
            byShard.computeIfAbsent(file, k -> new ArrayList<>()).add(e.getKey());
        }
        for (String file : byShard.keySet()) {
            if (!files.containsKey(file)) {
                throw LmcException.invalidInput(where, "names shard '" + file + "' (for tensor '"
                        + byShard.get(file).get(0) + "'), which does not exist in " + folder);
            }
            if (!files.get(file).isFile()) {
                throw LmcException.invalidInput(where, "names shard '" + file + "' (for tensor '"
                        + byShard.get(file).get(0) + "'), which is a folder in " + folder + "; expected a safetensors file");
            }
        }
        // Read every shard header (validating it), then check the index against what is there.
        Map<String, Map<String, TensorInfo>> contents = new LinkedHashMap<>();
        Map<String, String> firstShardOf = new TreeMap<>();
        for (String file : byShard.keySet()) {
            Path p = files.get(file).getPath();
            try (SafetensorsReader r = SafetensorsReader.open(p, conf)) {
                contents.put(file, r.tensors());
                for (String name : r.tensors().keySet()) {
                    String other = firstShardOf.putIfAbsent(name, file);
                    if (other != null) {
                        throw LmcException.invalidInput(where, "tensor '" + name + "' is in two shards, '"
                                + other + "' and '" + file + "'; expected each tensor in exactly one shard");
                    }
                }
            } catch (IOException e) {
                throw FileSystems.ioError(p.toString(), "cannot close", e);
            }
        }
        for (Map.Entry<String, List<String>> e : byShard.entrySet()) {
            Map<String, TensorInfo> inShard = contents.get(e.getKey());
            for (String name : e.getValue()) {
                if (!inShard.containsKey(name)) {
                    throw LmcException.invalidInput(where, "lists tensor '" + name + "' in shard '" + e.getKey()
                            + "', but that shard does not hold it");
                }
            }
            TreeSet<String> listed = new TreeSet<>(e.getValue());
            for (String name : inShard.keySet()) {
                if (!listed.contains(name)) {
                    throw LmcException.invalidInput(new Path(folder, e.getKey()).toString(), "holds tensor '" + name
                            + "', which " + ShardPlan.INDEX_FILE + " does not list for this shard");
                }
            }
            Path p = files.get(e.getKey()).getPath();
            shards.add(p);
            for (TensorInfo t : inShard.values()) {
                tensors.put(t.name(), t);
                shardOf.put(t.name(), p);
            }
        }
    }

    /** Index values must name a file in the same folder: no path separators, no {@code ..}. */
    private static void checkSiblingName(String file, String tensor, String where) {
        if (file.isEmpty() || file.contains("/") || file.contains("\\") || file.equals(".") || file.equals("..")
                || file.contains(":") || file.contains("\0")) {
            throw LmcException.invalidInput(where, "weight_map value for '" + tensor + "' is \"" + file
                    + "\"; expected a plain file name in the same folder (no '/', '\\', ':' or '..')");
        }
    }

    private static void requireFile(Map<String, FileStatus> files, String name, Path folder) {
        FileStatus st = files.get(name);
        if (st != null && !st.isFile()) {
            throw LmcException.invalidInput(new Path(folder, name).toString(), "is a folder; expected a file");
        }
    }

    private static void refuseWithoutSafetensors(Path folder, Map<String, FileStatus> files) {
        List<String> pickles = new ArrayList<>();
        for (String name : files.keySet()) {
            if (name.endsWith(".bin") || name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".ckpt")
                    || name.equals("pytorch_model.bin.index.json")) {
                pickles.add(name);
            }
        }
        if (!pickles.isEmpty()) {
            // Python reads local paths, not file: URIs; for remote folders the user converts a local copy.
            String dir = "file".equals(folder.toUri().getScheme()) ? folder.toUri().getPath() : "LOCAL_COPY";
            throw LmcException.invalidInput(folder.toString(), "holds only pickle weights " + pickles
                    + ", which are never loaded (unpickling can run arbitrary code); expected model.safetensors."
                    + " Convert once with: python -c \"from transformers import AutoModelForCausalLM as M; "
                    + "M.from_pretrained('" + dir + "').save_pretrained('OUT', safe_serialization=True)\""
                    + " (AutoModelForImageClassification for ViT) and copy the tokenizer files into OUT");
        }
        throw LmcException.invalidInput(folder.toString(), "holds neither " + ShardPlan.SINGLE_FILE + " nor "
                + ShardPlan.INDEX_FILE + "; expected a Hugging Face model folder saved with safetensors");
    }

    private static Map<String, FileStatus> list(FileSystem fs, Path folder) {
        try {
            Map<String, FileStatus> out = new TreeMap<>();
            for (FileStatus s : fs.listStatus(folder)) {
                out.put(s.getPath().getName(), s);
            }
            return out;
        } catch (IOException e) {
            throw FileSystems.ioError(folder.toString(), "cannot list model folder", e);
        }
    }

    static JsonNode readJsonObject(Path file, FileSystem fs, String what) {
        String where = file.toString();
        JsonNode node;
        try (InputStream in = fs.open(file)) {
            node = JSON.readTree(in);
        } catch (JsonProcessingException e) {
            throw LmcException.invalidInput(where, what + " is not valid JSON (" + e.getOriginalMessage()
                    + " at line " + (e.getLocation() == null ? "?" : e.getLocation().getLineNr()) + ")");
        } catch (java.io.CharConversionException e) {
            // Jackson reports bytes that are not text in any JSON encoding (UTF-8/16/32) this way.
            throw LmcException.invalidInput(where, what + " is not valid JSON (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw FileSystems.ioError(where, "cannot read " + what, e);
        }
        if (node == null || !node.isObject()) {
            throw LmcException.invalidInput(where, what + " is not a JSON object");
        }
        return node;
    }

    /** The model folder. */
    public Path folder() {
        return folder;
    }

    /** {@code config.json} as parsed JSON (typed views live in the model package). */
    public JsonNode config() {
        return config;
    }

    /** All tensors of all shards, in shard order then file order; offsets are within each tensor's shard. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /** The safetensors files, in order. */
    public List<Path> shards() {
        return shards;
    }

    /** The shard holding tensor {@code name}. */
    public Path shardOf(String name) {
        Path p = shardOf.get(name);
        if (p == null) {
            throw LmcException.invalidInput(folder.toString(), "has no tensor named '" + name + "'");
        }
        return p;
    }

    /** True if the checkpoint holds tensor {@code name}. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** Bytes of tensor data over all shards (the index's {@code total_size}). */
    public long totalBytes() {
        long n = 0;
        for (TensorInfo t : tensors.values()) {
            n += t.byteLength();
        }
        return n;
    }

    /** Tokenizer and related files present in the folder (see {@link #TOKENIZER_FILES}). */
    public List<Path> tokenizerFiles() {
        return tokenizerFiles;
    }

    /** Raw little-endian bytes of one tensor (see {@link SafetensorsReader#read}). */
    public ByteBuffer read(String name) {
        return reader(shardOf(name)).read(name);
    }

    /** One tensor as float32 (see {@link SafetensorsReader#readFloat32}). */
    public float[] readFloat32(String name) {
        return reader(shardOf(name)).readFloat32(name);
    }

    /** The open reader of the shard holding {@code name}, e.g. for {@link TensorSource#copyOf}. */
    public SafetensorsReader readerFor(String name) {
        return reader(shardOf(name));
    }

    private synchronized SafetensorsReader reader(Path shard) {
        if (closed) {
            throw new IllegalStateException(folder + ": checkpoint is closed");
        }
        return readers.computeIfAbsent(shard, p -> SafetensorsReader.open(p, conf));
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        IOException first = null;
        for (SafetensorsReader r : readers.values()) {
            try {
                r.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        readers.clear();
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "HfCheckpoint[" + folder + ", " + tensors.size() + " tensors in " + shards.size() + " file(s)]";
    }
}
