#!/usr/bin/env python3
"""Writes the seed corpus of the Jazzer fuzz tests (src/test/resources/dev/lmcmerge/fuzz/*Inputs/<method>/).
Run once from the project root; the seeds are committed, this script is only how they were made."""
import gzip, io, json, os, struct, sys
import numpy as np
import pyarrow as pa, pyarrow.parquet as pq

root = sys.argv[1] if len(sys.argv) > 1 else "src/test/resources/dev/lmcmerge/fuzz"

def out(cls, method, name, data):
    d = os.path.join(root, cls + "Inputs", method)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, bytes)"""
    header, data, off = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dt, shape, b in tensors:
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(b)]}
        data += b
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data

f32 = np.arange(6, dtype="<f4").tobytes()
# 1. safetensors files
S = "SafetensorsFuzzTest"; m = "safetensorsFile"
out(S, m, "f32", safetensors([("w", "F32", [2, 3], f32)], {"format": "pt"}))
out(S, m, "mixed", safetensors([("a", "F16", [2], np.array([1, -2], "<f2").tobytes()),
                                ("b", "BF16", [1, 2], b"\x80\x3f\x00\xc0"),
                                ("c", "I64", [1], struct.pack("<q", 7)),
                                ("d", "F64", [], struct.pack("<d", 0.5)),
                                ("e", "BOOL", [0], b"")]))
out(S, m, "empty-header", safetensors([]))
out(S, m, "u8-scalar", safetensors([("x", "U8", [], b"\x01"), ("y", "I32", [1, 1], b"\x01\x00\x00\x00")], {}))

# 2. sharded index (shards a, b in shard 1; c in shard 2: see ShardedIndexFuzzTest)
I = "ShardedIndexFuzzTest"; m = "shardedIndex"
s1, s2 = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
out(I, m, "valid", json.dumps({"metadata": {"total_size": 36}, "weight_map": {"a": s1, "b": s1, "c": s2}}, indent=2).encode())
out(I, m, "escape", json.dumps({"weight_map": {"a": "../outside.safetensors", "b": s1, "c": s2}}).encode())
out(I, m, "absolute", json.dumps({"weight_map": {"a": "/tmp/x.safetensors", "b": "file:/x", "c": "a/b"}}).encode())
out(I, m, "missing-tensor", json.dumps({"weight_map": {"a": s1, "c": s2}}).encode())

# 3. config.json
C = "ModelConfigFuzzTest"; m = "configJson"
base = dict(num_hidden_layers=2, hidden_size=8, num_attention_heads=2, intermediate_size=16, vocab_size=32)
out(C, m, "gpt_neox", json.dumps(dict(base, model_type="gpt_neox", rotary_pct=0.5)).encode())
out(C, m, "llama", json.dumps(dict(base, model_type="llama", num_key_value_heads=1,
                                   rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                 "high_freq_factor": 4.0, "original_max_position_embeddings": 64})).encode())
out(C, m, "qwen2", json.dumps(dict(base, model_type="qwen2", use_sliding_window=True, sliding_window=4,
                                   rope_parameters={"rope_theta": 1e6, "rope_type": "default"})).encode())
out(C, m, "mistral", json.dumps(dict(base, model_type="mistral", head_dim=4, sliding_window=None)).encode())
out(C, m, "gpt2", json.dumps(dict(model_type="gpt2", n_layer=2, n_embd=8, n_head=2, vocab_size=32, n_positions=16)).encode())
out(C, m, "vit", json.dumps(dict(base, model_type="vit", image_size=8, patch_size=4, num_channels=3,
                                 id2label={"0": "a", "1": "b"})).encode())

# 4. npy tokens: first byte(s) consumed by the test for seqLen, rest is the file (FuzzedDataProvider
#    takes ints from the END of the input, so the seq-len byte is appended last).
N = "NpyTokensFuzzTest"; m = "npyTokens"
def npy(a):
    b = io.BytesIO(); np.save(b, a); return b.getvalue()
out(N, m, "rows-i64", npy(np.arange(12, dtype="<i8").reshape(3, 4)) + b"\x00")
out(N, m, "rows-i32-cut", npy(np.arange(12, dtype="<i4").reshape(3, 4)) + b"\x02")
out(N, m, "stream-u8", npy(np.arange(10, dtype="u1")) + b"\x03")
out(N, m, "float", npy(np.zeros((2, 2), "<f4")) + b"\x00")

# 5. parquet tokens (last byte: seqLen)
P = "ParquetTokensFuzzTest"; m = "parquetTokens"
def parquet(table, **kw):
    b = io.BytesIO(); pq.write_table(table, b, **kw); return b.getvalue()
rows = [[1, 2, 3], [4, 5], None, [6, 7, 8, 9]]
out(P, m, "list-i64", parquet(pa.table({"input_ids": pa.array(rows, pa.list_(pa.int64())), "text": ["a", "b", "c", "d"]})) + b"\x02")
out(P, m, "list-i32-snappy", parquet(pa.table({"input_ids": pa.array(rows, pa.list_(pa.int32()))}), compression="snappy") + b"\x01")
out(P, m, "list-i64-gzip-v2", parquet(pa.table({"input_ids": pa.array(rows, pa.list_(pa.int64()))}), compression="gzip",
                                      data_page_version="2.0") + b"\x03")
out(P, m, "wrong-type", parquet(pa.table({"input_ids": pa.array([["x"], ["y"]], pa.list_(pa.string()))})) + b"\x01")

# 6. text (last bytes: seqLen, then gz flag)
T = "TextTokensFuzzTest"; m = "textTokens"
out(T, m, "plain", "hello, world\nsecond line é\n".encode() + b"\x00\x04")
out(T, m, "gzip", gzip.compress(b"compressed text\n" * 4, mtime=0) + b"\x01\x05")
