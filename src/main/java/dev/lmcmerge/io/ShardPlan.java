package dev.lmcmerge.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which tensor goes into which file of a Hugging Face checkpoint, decided the way
 * {@code huggingface_hub.split_torch_state_dict_into_shards} decides it: tensors in the given
 * order fill a shard until the next one would exceed the maximum shard size; a tensor larger
 * than the maximum gets a shard of its own. One shard is {@code model.safetensors}; several are
 * {@code model-00001-of-0000N.safetensors} plus {@code model.safetensors.index.json}.
 *
 * <p>Separate from writing so that distributed writers can write each shard in its own task.
 */
public record ShardPlan(List<Shard> shards) {

    /** The single-file name. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** The index file name for a sharded checkpoint. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    /** One output file and its tensors (offsets of each at 0; in file order). */
    public record Shard(String fileName, List<TensorInfo> tensors) {
        /** Bytes of tensor data in this shard. */
        public long bytes() {
            return tensors.stream().mapToLong(TensorInfo::byteLength).sum();
        }
    }

    /**
     * Plans the files for {@code tensors}; each shard's tensors are then ordered as the
     * safetensors library stores them ({@link SafetensorsWriter#SAFETENSORS_ORDER}).
     *
     * @param maxShardBytes the maximum bytes of tensor data per file (Hugging Face default 5 GB = 5e9)
     */
    public static ShardPlan plan(List<TensorInfo> tensors, long maxShardBytes) {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        List<List<TensorInfo>> groups = new ArrayList<>();
        List<TensorInfo> current = new ArrayList<>();
        long size = 0;
        for (TensorInfo t : tensors) {
            long b = t.byteLength();
            if (b > maxShardBytes) {
                groups.add(new ArrayList<>(List.of(t)));
                continue;
            }
            if (size + b > maxShardBytes && !current.isEmpty()) {
                groups.add(current);
                current = new ArrayList<>();
                size = 0;
            }
            current.add(t);
            size += b;
        }
        if (!current.isEmpty() || groups.isEmpty()) {
            groups.add(current);
        }
        List<Shard> shards = new ArrayList<>();
        int n = groups.size();
        for (int i = 0; i < n; i++) {
            List<TensorInfo> g = groups.get(i);
            g.sort(SafetensorsWriter.SAFETENSORS_ORDER);
            shards.add(new Shard(n == 1 ? SINGLE_FILE : shardName(i + 1, n), Collections.unmodifiableList(g)));
        }
        return new ShardPlan(Collections.unmodifiableList(shards));
    }

    /** {@code model-00001-of-00003.safetensors}: 1-based, five digits, as transformers names them. */
    public static String shardName(int index, int count) {
        return String.format("model-%05d-of-%05d.safetensors", index, count);
    }

    /** True if the plan has more than one file, so an index is written. */
    public boolean sharded() {
        return shards.size() > 1;
    }

    /** Bytes of all tensor data. */
    public long totalBytes() {
        return shards.stream().mapToLong(Shard::bytes).sum();
    }

    /**
     * The index JSON as transformers writes it: {@code {"metadata": {"total_size": N},
     * "weight_map": {name: file}}}, keys sorted, two-space indent, trailing newline.
     */
    public String indexJson() {
        Map<String, String> weightMap = new TreeMap<>();
        for (Shard s : shards) {
            for (TensorInfo t : s.tensors()) {
                weightMap.put(t.name(), s.fileName());
            }
        }
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.putObject("metadata").put("total_size", totalBytes());
        ObjectNode wm = root.putObject("weight_map");
        weightMap.forEach(wm::put);
        try {
            return Json.pretty(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
