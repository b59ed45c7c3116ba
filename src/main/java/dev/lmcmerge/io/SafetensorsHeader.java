package dev.lmcmerge.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lmcmerge.config.LmcException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed and validated JSON header of a safetensors file.
 *
 * <p>Format: 8 bytes little-endian header length N, N bytes of UTF-8 JSON, then the data
 * section. The JSON object maps each tensor name to {@code {"dtype", "shape", "data_offsets"}}
 * (offsets relative to the data section) and may hold {@code "__metadata__"}, a string-to-string map.
 * Validation is strict, because a malformed checkpoint should stop a run before any work is done,
 * with a message saying exactly what is wrong.
 */
public record SafetensorsHeader(Map<String, TensorInfo> tensors, Map<String, String> metadata) {

    /** Upper bound on the header length; Hugging Face's own reader uses the same limit. */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    static final String METADATA_KEY = "__metadata__";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /**
     * Checks the 8-byte length prefix against the file length.
     *
     * @return the header length N
     */
    static long checkHeaderLength(long headerLength, long fileLength, String where) {
        return checkHeaderLength(headerLength, fileLength, MAX_HEADER_BYTES, where);
    }

    /** As {@link #checkHeaderLength(long, long, String)} with a configured limit (see SafetensorsReader). */
    static long checkHeaderLength(long headerLength, long fileLength, long maxHeaderBytes, String where) {
        if (headerLength < 2) {
            throw LmcException.invalidInput(where, "header length " + headerLength
                    + " is too small; expected at least 2 bytes of JSON ('{}')");
        }
        if (headerLength > maxHeaderBytes) {
            throw LmcException.invalidInput(where, "header length " + headerLength + " exceeds the "
                    + (maxHeaderBytes == MAX_HEADER_BYTES ? "100 MB" : maxHeaderBytes + "-byte")
                    + " limit (" + SafetensorsReader.MAX_HEADER_BYTES_KEY
                    + "); this is not a safetensors file or it is corrupt");
        }
        if (8 + headerLength > fileLength) {
            throw LmcException.invalidInput(where, "header length " + headerLength
                    + " is longer than the file (" + fileLength + " bytes); the file is truncated or not safetensors");
        }
        return headerLength;
    }

    /**
     * Parses and validates a header.
     *
     * @param json       the N header bytes
     * @param dataLength bytes after the header (file length - 8 - N)
     * @param where      the file, for messages
     */
    public static SafetensorsHeader parse(byte[] json, long dataLength, String where) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw LmcException.invalidInput(where, "header is not valid JSON ("
                    + e.getOriginalMessage() + "); expected a JSON object of tensors");
        } catch (java.io.IOException e) {
            throw LmcException.invalidInput(where, "header is not valid JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw LmcException.invalidInput(where, "header is a JSON "
                    + (root == null ? "nothing" : root.getNodeType().toString().toLowerCase())
                    + "; expected a JSON object of tensors");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> list = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals(METADATA_KEY)) {
                readMetadata(e.getValue(), metadata, where);
            } else {
                list.add(readTensor(e.getKey(), e.getValue(), where));
            }
        }
        checkLayout(list, dataLength, where);
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (TensorInfo t : list) {
            tensors.put(t.name(), t);
        }
        return new SafetensorsHeader(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static void readMetadata(JsonNode node, Map<String, String> into, String where) {
        if (!node.isObject()) {
            throw LmcException.invalidInput(where, "__metadata__ is not a JSON object; expected a map of strings to strings");
        }
        for (Map.Entry<String, JsonNode> m : node.properties()) {
            if (!m.getValue().isTextual()) {
                throw LmcException.invalidInput(where, "__metadata__ value of \"" + m.getKey()
                        + "\" is not a string; expected a map of strings to strings");
            }
            into.put(m.getKey(), m.getValue().textValue());
        }
    }

    private static TensorInfo readTensor(String name, JsonNode node, String file) {
        String where = file + " tensor '" + name + "'";
        if (!node.isObject()) {
            throw LmcException.invalidInput(where, "entry is not a JSON object; expected {\"dtype\", \"shape\", \"data_offsets\"}");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw LmcException.invalidInput(where, "missing or non-string \"dtype\"");
        }
        DType dtype = DType.fromSafetensors(dtypeNode.textValue(), where);
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw LmcException.invalidInput(where, "missing \"shape\"; expected an array of dimensions");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong()) {
                throw LmcException.invalidInput(where, "shape " + shapeNode + " holds " + d
                        + "; expected non-negative integers");
            }
            shape[i] = d.longValue();
            if (shape[i] < 0) {
                throw LmcException.invalidInput(where, "shape " + shapeNode + " has a negative dimension");
            }
        }
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2
                || !offsets.get(0).isIntegralNumber() || !offsets.get(1).isIntegralNumber()
                || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()) {
            throw LmcException.invalidInput(where, "\"data_offsets\" is " + offsets
                    + "; expected [begin, end] as two integers");
        }
        long begin = offsets.get(0).longValue();
        long end = offsets.get(1).longValue();
        if (begin < 0 || end < begin) {
            throw LmcException.invalidInput(where, "data_offsets [" + begin + ", " + end
                    + "] are not a range; expected 0 <= begin <= end");
        }
        long numel = 1;
        long bytes;
        try {
            for (long d : shape) {
                numel = Math.multiplyExact(numel, d);
            }
            bytes = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw LmcException.invalidInput(where, "shape " + shapeNode
                    + " overflows: its byte size does not fit a 64-bit integer");
        }
        if (bytes != end - begin) {
            throw LmcException.invalidInput(where, "shape " + shapeNode + " x " + dtype.safetensorsName()
                    + " needs " + bytes + " bytes but data_offsets [" + begin + ", " + end + "] span "
                    + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** Tensors must tile the data section [0, dataLength) exactly: no hole, no overlap, nothing past the end. */
    private static void checkLayout(List<TensorInfo> list, long dataLength, String where) {
        list.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expected = 0;
        TensorInfo prev = null;
        for (TensorInfo t : list) {
            if (t.end() > dataLength) {
                throw LmcException.invalidInput(where + " tensor '" + t.name() + "'", "data_offsets ["
                        + t.begin() + ", " + t.end() + "] reach past the end of the data section ("
                        + dataLength + " bytes); the file is truncated or the header is wrong");
            }
            if (t.begin() < expected) {
                throw LmcException.invalidInput(where + " tensor '" + t.name() + "'", "data_offsets ["
                        + t.begin() + ", " + t.end() + "] overlap tensor '" + prev.name() + "' ["
                        + prev.begin() + ", " + prev.end() + "]");
            }
            if (t.begin() > expected) {
                throw LmcException.invalidInput(where + " tensor '" + t.name() + "'", "hole of "
                        + (t.begin() - expected) + " bytes before it: data_offsets begin at " + t.begin()
                        + " but the previous tensor ends at " + expected
                        + "; expected tensors to follow each other without gaps");
            }
            expected = t.end();
            prev = t;
        }
        if (expected != dataLength) {
            throw LmcException.invalidInput(where, "file length does not match the header: tensors end at byte "
                    + expected + " of the data section but it holds " + dataLength + " bytes");
        }
    }

    /**
     * The header bytes Hugging Face writes for these tensors (in the given order, offsets as given):
     * compact JSON with {@code __metadata__} first, padded with spaces to a multiple of 8 bytes.
     */
    public static byte[] encode(List<TensorInfo> tensors, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = root.putObject(METADATA_KEY);
            metadata.forEach(m::put);
        }
        for (TensorInfo t : tensors) {
            if (t.name().equals(METADATA_KEY)) {
                throw new IllegalArgumentException("a tensor may not be named " + METADATA_KEY);
            }
            if (root.has(t.name())) {
                throw new IllegalArgumentException("tensor '" + t.name() + "' given twice");
            }
            ObjectNode n = root.putObject(t.name());
            n.put("dtype", t.dtype().safetensorsName());
            var shape = n.putArray("shape");
            for (int i = 0; i < t.rank(); i++) {
                shape.add(t.dim(i));
            }
            n.putArray("data_offsets").add(t.begin()).add(t.end());
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            out[i] = ' ';
        }
        return out;
    }
}
