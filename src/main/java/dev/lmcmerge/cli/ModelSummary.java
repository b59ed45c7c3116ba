package dev.lmcmerge.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.io.TensorInfo;
import dev.lmcmerge.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The facts {@code lmc inspect} prints about a checkpoint, from its config.json and tensor headers.
 *
 * @param location the folder as the user gave it
 * @param config the typed config.json
 * @param parameters elements of every tensor except non-weight buffers
 * @param tensors number of tensors
 * @param buffers names of non-weight buffers found (not counted as parameters)
 * @param dtypes per dtype: number of tensors and of elements
 * @param totalBytes bytes of tensor data over all shards
 * @param shards shard file names, in order
 */
record ModelSummary(
        String location,
        ModelConfig config,
        long parameters,
        int tensors,
        List<String> buffers,
        Map<DType, long[]> dtypes,
        long totalBytes,
        List<String> shards) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Suffixes of non-weight buffers that older checkpoints carry (causal masks, rotary
     * frequencies; DESIGN.md section 5): the model ignores them, so they are not parameters.
     */
    static final List<String> BUFFER_SUFFIXES = List.of(
            ".attention.bias", ".attention.masked_bias", ".attn.bias", ".attn.masked_bias", ".rotary_emb.inv_freq");

    static ModelSummary of(String location, HfCheckpoint checkpoint) {
        long parameters = 0;
        List<String> buffers = new ArrayList<>();
        Map<DType, long[]> dtypes = new TreeMap<>();
        for (TensorInfo t : checkpoint.tensors().values()) {
            long[] c = dtypes.computeIfAbsent(t.dtype(), d -> new long[2]);
            c[0]++;
            c[1] += t.numel();
            if (isBuffer(t.name())) {
                buffers.add(t.name());
            } else {
                parameters += t.numel();
            }
        }
        List<String> shards = checkpoint.shards().stream().map(p -> p.getName()).toList();
        ModelConfig config = ModelConfig.parse(checkpoint.config(), checkpoint.folder() + "/config.json");
        return new ModelSummary(location, config, parameters, checkpoint.tensors().size(),
                List.copyOf(buffers), dtypes, checkpoint.totalBytes(), shards);
    }

    static boolean isBuffer(String name) {
        return BUFFER_SUFFIXES.stream().anyMatch(name::endsWith);
    }

    /** A table for people: one fact per line. */
    String toText() {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"model", location});
        ModelConfig c = config;
        rows.add(new String[] {"family", c.family().id()
                + (c.modelType().equals(c.family().id()) ? "" : " (model_type " + c.modelType() + ")")});
        rows.add(new String[] {"layers", Integer.toString(c.numLayers())});
        rows.add(new String[] {"hidden size", Integer.toString(c.hiddenSize())});
        rows.add(new String[] {"heads", c.numHeads() + " query, " + c.numKvHeads() + " key/value, head dim "
                + c.headDim() + (c.rotary() ? ", rotary dims " + c.rotaryDim() : "")});
        rows.add(new String[] {"ffn size", Integer.toString(c.intermediateSize())});
        if (c.family().causalLm()) {
            rows.add(new String[] {"vocab size", Integer.toString(c.vocabSize())});
        } else {
            rows.add(new String[] {"labels", c.numLabels() + " (image " + c.imageSize() + ", patch " + c.patchSize() + ")"});
        }
        rows.add(new String[] {"parameters", String.format(Locale.ROOT, "%,d (%s)", parameters, humanCount(parameters))});
        List<String> d = new ArrayList<>();
        dtypes.forEach((k, v) -> d.add(k.safetensorsName() + ": " + v[0] + (v[0] == 1 ? " tensor" : " tensors")));
        rows.add(new String[] {"dtypes", String.join(", ", d)});
        rows.add(new String[] {"tensors", Integer.toString(tensors)
                + (buffers.isEmpty() ? "" : " (" + buffers.size() + " non-weight buffers ignored)")});
        rows.add(new String[] {"total bytes", String.format(Locale.ROOT, "%,d (%s)", totalBytes, humanBytes(totalBytes))});
        rows.add(new String[] {"shards", shards.size() + ": " + String.join(", ", shards)});
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            sb.append(String.format(Locale.ROOT, "%-12s %s%n", r[0], r[1]));
        }
        return sb.toString().stripTrailing();
    }

    /** One JSON object for scripts. */
    String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("model", location);
        o.put("family", config.family().id());
        o.put("model_type", config.modelType());
        o.put("layers", config.numLayers());
        o.put("hidden_size", config.hiddenSize());
        o.put("num_heads", config.numHeads());
        o.put("num_kv_heads", config.numKvHeads());
        o.put("head_dim", config.headDim());
        o.put("rotary_dim", config.rotaryDim());
        o.put("intermediate_size", config.intermediateSize());
        o.put("vocab_size", config.vocabSize());
        o.put("num_labels", config.numLabels());
        o.put("parameters", parameters);
        o.put("tensors", tensors);
        ObjectNode d = o.putObject("dtypes");
        dtypes.forEach((k, v) -> d.putObject(k.safetensorsName()).put("tensors", v[0]).put("elements", v[1]));
        buffers.forEach(o.putArray("buffers")::add);
        o.put("total_bytes", totalBytes);
        shards.forEach(o.putArray("shards")::add);
        return o.toString();
    }

    static String humanCount(long n) {
        if (n >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.2f B", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.2f M", n / 1e6);
        }
        if (n >= 1_000L) {
            return String.format(Locale.ROOT, "%.1f K", n / 1e3);
        }
        return Long.toString(n);
    }

    static String humanBytes(long b) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = b;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? b + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
