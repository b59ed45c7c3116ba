#!/usr/bin/env python3
"""Generates the option-coverage fixtures of dev.lmcmerge.model.ArchitectureOptionsTest.

Run once (developer machine, not part of the build):
    pip install torch transformers safetensors numpy
    python3 src/test/resources/model/make_fixtures.py

Each fixture folder holds the config.json of one tiny model that exercises config options
(partial vs full rotary, parallel vs sequential residual, GQA ratios, tied heads, rope scaling,
qwen2 biases, the rope_parameters config style, sliding windows, ...) and expected.json with
the Hugging Face logits, loss and the exact list of state-dict tensors. No weights are stored:
every weight is a pure function of its name (splitmix64 over an FNV-1a hash of the name), which
the Java test recomputes bit for bit (FixtureWeights.java), writes as model.safetensors and loads.
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
import transformers
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForImageClassification

HERE = os.path.dirname(os.path.abspath(__file__))
MASK64 = (1 << 64) - 1


def fnv1a64(name):
    h = 0xCBF29CE484222325
    for b in name.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) & MASK64
    return h


def uniform(name, n):
    """n values in [-1, 1): splitmix64(fnv1a64(name) + (i + 1) * golden), top 53 bits."""
    with np.errstate(over="ignore"):
        i = np.arange(1, n + 1, dtype=np.uint64)
        z = np.uint64(fnv1a64(name)) + i * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) * (2.0 ** -53)
    return 2.0 * u - 1.0


def fixture_value(name, shape):
    """Norm gains 1 + 0.2u, norm biases and other biases 0.1u, matrices 0.4u (float32)."""
    n = int(np.prod(shape)) if len(shape) else 1
    u = uniform(name, n)
    if "norm" in name or ".ln_" in name:
        v = 1.0 + 0.2 * u if name.endswith("weight") else 0.1 * u
    elif len(shape) == 1:
        v = 0.1 * u
    else:
        v = 0.4 * u
    return v.astype(np.float32).reshape(shape)


LM = dict(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
          max_position_embeddings=64)

FIXTURES = {
    # GPT-NeoX
    "neox_sequential_full_rotary": dict(model_type="gpt_neox", **LM, rotary_pct=1.0, rotary_emb_base=10000,
                                        use_parallel_residual=False, hidden_act="gelu", layer_norm_eps=1e-5,
                                        tie_word_embeddings=False),
    "neox_parallel_half_rotary_gelu_new": dict(model_type="gpt_neox", **LM, rotary_pct=0.5, rotary_emb_base=100,
                                               use_parallel_residual=True, hidden_act="gelu_new",
                                               attention_bias=False, layer_norm_eps=1e-5,
                                               tie_word_embeddings=False),
    "neox_rope_parameters_linear_tied": dict(model_type="gpt_neox", **LM, use_parallel_residual=True,
                                             hidden_act="gelu", layer_norm_eps=1e-5, tie_word_embeddings=True,
                                             rope_parameters=dict(rope_type="linear", factor=2.0, rope_theta=1000.0,
                                                                  partial_rotary_factor=0.25)),
    # Llama family
    "llama_mha_tied_llama3": dict(model_type="llama", **dict(LM, max_position_embeddings=512),
                                  num_key_value_heads=4, rms_norm_eps=1e-5, tie_word_embeddings=True, rope_theta=100.0,
                                  rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                                    high_freq_factor=4.0, original_max_position_embeddings=64)),
    "llama_gqa2_linear_biases_head_dim": dict(model_type="llama", **LM, num_key_value_heads=2, head_dim=12,
                                              rms_norm_eps=1e-6, tie_word_embeddings=False, rope_theta=500.0,
                                              attention_bias=True, mlp_bias=True,
                                              rope_scaling=dict(type="linear", factor=3.0)),
    "llama_rope_parameters_llama3_gqa4": dict(model_type="llama", **dict(LM, max_position_embeddings=512),
                                              num_key_value_heads=1, rms_norm_eps=1e-6,
                                              tie_word_embeddings=False,
                                              rope_parameters=dict(rope_type="llama3", rope_theta=10000.0, factor=4.0,
                                                                   low_freq_factor=1.0, high_freq_factor=8.0,
                                                                   original_max_position_embeddings=128)),
    "qwen2_biases_gqa2": dict(model_type="qwen2", **LM, num_key_value_heads=2, rms_norm_eps=1e-6,
                              tie_word_embeddings=False, rope_theta=10000.0, use_sliding_window=False),
    "mistral_sliding_window": dict(model_type="mistral", **LM, num_key_value_heads=2, rms_norm_eps=1e-5,
                                   tie_word_embeddings=False, rope_theta=10000.0, sliding_window=3),
    # GPT-2
    "gpt2_untied_gelu_inverse_layer_scale": dict(model_type="gpt2", vocab_size=64, n_embd=32, n_layer=2, n_head=4,
                                                 n_positions=16, n_inner=48, activation_function="gelu",
                                                 layer_norm_epsilon=1e-5, tie_word_embeddings=False,
                                                 scale_attn_by_inverse_layer_idx=True),
    # ViT
    "vit_no_qkv_bias_relu": dict(model_type="vit", hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                 intermediate_size=48, image_size=8, patch_size=4, num_channels=3, qkv_bias=False,
                                 hidden_act="relu", layer_norm_eps=1e-6,
                                 id2label={str(i): "L%d" % i for i in range(3)},
                                 label2id={"L%d" % i: i for i in range(3)}),
}

# Per fixture: what transformers must have understood from config.json, so a fixture that
# silently fell back to a default cannot pass as coverage of its option.
CHECKS = {
    "neox_sequential_full_rotary": lambda m: m.gpt_neox.layers[0].attention.rotary_ndims == 8,
    "neox_parallel_half_rotary_gelu_new": lambda m: m.gpt_neox.layers[0].attention.rotary_ndims == 4
    and m.gpt_neox.layers[0].attention.query_key_value.bias is None,
    "neox_rope_parameters_linear_tied": lambda m: m.gpt_neox.layers[0].attention.rotary_ndims == 2
    and m.get_output_embeddings().weight.data_ptr() == m.gpt_neox.embed_in.weight.data_ptr(),
    "llama_mha_tied_llama3": lambda m: m.lm_head.weight.data_ptr() == m.model.embed_tokens.weight.data_ptr()
    and m.model.rotary_emb.rope_type == "llama3",
    "llama_rope_parameters_llama3_gqa4": lambda m: m.model.rotary_emb.rope_type == "llama3"
    and m.model.layers[0].self_attn.k_proj.weight.shape[0] == 8,
    "llama_gqa2_linear_biases_head_dim": lambda m: m.model.layers[0].self_attn.o_proj.bias is not None
    and m.model.layers[0].mlp.up_proj.bias is not None and m.model.layers[0].self_attn.q_proj.weight.shape[0] == 48,
    "qwen2_biases_gqa2": lambda m: m.model.layers[0].self_attn.q_proj.bias is not None
    and m.model.layers[0].self_attn.o_proj.bias is None,
    "mistral_sliding_window": lambda m: m.config.sliding_window == 3,
    "gpt2_untied_gelu_inverse_layer_scale": lambda m: m.lm_head.weight.data_ptr() != m.transformer.wte.weight.data_ptr(),
    "vit_no_qkv_bias_relu": lambda m: not any("bias" in n for n, _ in m.named_parameters()
                                              if ".0.attention." in n and "o_proj" not in n and "output" not in n)
    and m.config.num_labels == 3,
}


def input_ids():
    u = uniform("input_ids", 2 * 8)
    return np.floor((u + 1.0) / 2.0 * 64).astype(np.int64).reshape(2, 8)


def pixel_values():
    return uniform("pixel_values", 2 * 3 * 8 * 8).astype(np.float32).reshape(2, 3, 8, 8)


def main():
    torch.manual_seed(0)
    ids = input_ids()
    pixels = pixel_values()
    np.save(os.path.join(HERE, "input_ids.npy"), ids)
    np.save(os.path.join(HERE, "pixel_values.npy"), pixels)
    for name, cfg in FIXTURES.items():
        d = os.path.join(HERE, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1, sort_keys=True)
            f.write("\n")
        config = AutoConfig.from_pretrained(d)
        vit = cfg["model_type"] == "vit"
        cls = AutoModelForImageClassification if vit else AutoModelForCausalLM
        # The tensor names and shapes a checkpoint of this config holds on disk (tied ones once),
        # taken from what transformers itself writes.
        tmp = tempfile.mkdtemp()
        cls.from_config(config).save_pretrained(tmp)
        with safe_open(os.path.join(tmp, "model.safetensors"), "pt") as f:
            names = list(f.keys())
            shapes = {k: list(f.get_slice(k).get_shape()) for k in names}
        tensors = [[k, shapes[k]] for k in names]
        save_file({k: torch.from_numpy(fixture_value(k, tuple(shapes[k]))) for k in names},
                  os.path.join(tmp, "model.safetensors"), metadata={"format": "pt"})
        model, info = cls.from_pretrained(tmp, attn_implementation="eager", output_loading_info=True)
        assert not info["missing_keys"] and not info["unexpected_keys"], info
        model.eval()
        shutil.rmtree(tmp)
        assert CHECKS[name](model), "transformers did not read the option of " + name
        with torch.no_grad():
            if vit:
                out = model(pixel_values=torch.from_numpy(pixels))
                loss = None
            else:
                out = model(input_ids=torch.from_numpy(ids), labels=torch.from_numpy(ids))
                loss = float(out.loss)
        logits = out.logits.float().numpy()
        np.save(os.path.join(d, "logits.npy"), logits)
        with open(os.path.join(d, "expected.json"), "w") as f:
            head = json.dumps({"transformers": transformers.__version__, "torch": torch.__version__, "loss": loss})
            f.write(head[:-1] + ',\n "tensors": [\n  ' + ",\n  ".join(json.dumps(t) for t in tensors) + "\n ]}\n")
        print("%-40s logits %s max|logit| %.3f loss %s" % (name, logits.shape, np.abs(logits).max(), loss))


if __name__ == "__main__":
    sys.exit(main())
