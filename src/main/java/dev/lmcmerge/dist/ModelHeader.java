package dev.lmcmerge.dist;

import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.HfCheckpoint;
import dev.lmcmerge.io.TensorInfo;
import dev.lmcmerge.model.ModelConfig;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the driver knows about one checkpoint: its configuration and safetensors headers, never
 * its weights.
 *
 * @param location   the folder, fully qualified
 * @param config     the parsed config.json
 * @param tensors    number of tensors
 * @param parameters number of weight elements
 * @param bytes      bytes of tensor data in the files
 * @param dtypes     dtype -> tensor count
 * @param files      safetensors files
 * @param rawConfig  config.json as parsed JSON (the merged checkpoint's config starts from model A's)
 * @param tokenizerFiles tokenizer and related files in the folder (copied into merged checkpoints)
 */
public record ModelHeader(String location, ModelConfig config, int tensors, long parameters, long bytes,
                          Map<String, Integer> dtypes, int files, JsonNode rawConfig, List<String> tokenizerFiles) {

    /** The header of an open checkpoint. */
    public static ModelHeader of(HfCheckpoint ckpt, ModelConfig config) {
        long params = 0;
        Map<String, Integer> dtypes = new TreeMap<>();
        for (TensorInfo t : ckpt.tensors().values()) {
            params += t.numel();
            DType d = t.dtype();
            dtypes.merge(d.safetensorsName(), 1, Integer::sum);
        }
        List<String> tok = ckpt.tokenizerFiles().stream().map(Object::toString).toList();
        return new ModelHeader(ckpt.folder().toString(), config, ckpt.tensors().size(), params, ckpt.totalBytes(),
                dtypes, ckpt.shards().size(), ckpt.config(), tok);
    }

    /** One line: family, sizes, parameters, bytes, dtypes, files. */
    public String describe() {
        ModelConfig c = config;
        return String.format(Locale.ROOT, "%s, %d layers, d=%d, %d heads%s, ffn %d, %s %d, %s params, %s (%s) in %d file%s",
                c.modelType(), c.numLayers(), c.hiddenSize(), c.numHeads(),
                c.numKvHeads() != c.numHeads() ? " (" + c.numKvHeads() + " kv)" : "", c.intermediateSize(),
                c.family().causalLm() ? "vocab" : "labels", c.outputSize(), count(parameters), Sizes.bytes(bytes),
                String.join("+", dtypes.keySet()), files, files == 1 ? "" : "s");
    }

    private static String count(long n) {
        if (n >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.2fB", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.1fM", n / 1e6);
        }
        if (n >= 1_000L) {
            return String.format(Locale.ROOT, "%.1fk", n / 1e3);
        }
        return Long.toString(n);
    }
}
