package dev.lmcmerge.symmetry;

import static dev.lmcmerge.symmetry.HeadRole.K;
import static dev.lmcmerge.symmetry.HeadRole.O;
import static dev.lmcmerge.symmetry.HeadRole.Q;
import static dev.lmcmerge.symmetry.HeadRole.V;

/**
 * The per-family tables (DESIGN.md section 5, SYMMETRIES.md section 1): for every Hugging Face
 * tensor, which slots act on its output and input axes and how the axis is laid out; every norm
 * with its readers; the tied unembedding. This is the only place that knows family tensor names;
 * canonical form, transform engine, export and matching all read these tables.
 *
 * <p>Stored axes: Linear weights are [out, in] (output axis 0, input axis 1); GPT-2 Conv1D weights
 * are [in, out]; embeddings [V, d], cls token [1, 1, d] and ViT position embeddings [1, N+1, d]
 * hold residual vectors along their last axis; the ViT patch projection [d, C, p, p] writes
 * along axis 0.
 */
final class SpecTables {
    private SpecTables() {
    }

    static void build(SpecTableBuilder b) {
        switch (b.dims().family()) {
            case "gpt_neox" -> gptNeox(b);
            case "llama" -> llama(b);
            case "gpt2" -> gpt2(b);
            case "vit" -> vit(b);
            default -> throw new IllegalArgumentException("no transform spec for family " + b.dims().family()
                    + "; expected gpt_neox, llama, gpt2 or vit");
        }
    }

    /** GPT-NeoX / Pythia: fused QKV rows per head [q_h|k_h|v_h], LayerNorm, GELU MLP, untied embed_out. */
    static void gptNeox(SpecTableBuilder b) {
        b.tensor("gpt_neox.embed_in.weight", b.residualWrite(1), null);
        for (int l = 0; l < b.dims().layers(); l++) {
            String p = "gpt_neox.layers." + l + ".";
            b.tensor(p + "attention.query_key_value.weight", b.heads(0, l, true, Q, K, V), b.residualRead(1));
            b.optionalTensor(p + "attention.query_key_value.bias", b.heads(0, l, true, Q, K, V), null);
            b.tensor(p + "attention.dense.weight", b.residualWrite(0), b.heads(1, l, false, O));
            b.optionalTensor(p + "attention.dense.bias", b.residualWrite(0), null);
            b.tensor(p + "mlp.dense_h_to_4h.weight", b.units(0, l, false), b.residualRead(1));
            b.tensor(p + "mlp.dense_h_to_4h.bias", b.units(0, l, false), null);
            b.tensor(p + "mlp.dense_4h_to_h.weight", b.residualWrite(0), b.units(1, l, false));
            b.tensor(p + "mlp.dense_4h_to_h.bias", b.residualWrite(0), null);
            b.norm(p + "input_layernorm.weight", p + "input_layernorm.bias",
                    p + "attention.query_key_value.weight", p + "attention.query_key_value.bias");
            b.norm(p + "post_attention_layernorm.weight", p + "post_attention_layernorm.bias",
                    p + "mlp.dense_h_to_4h.weight", p + "mlp.dense_h_to_4h.bias");
        }
        b.tensor("embed_out.weight", null, b.residualRead(1));
        b.norm("gpt_neox.final_layer_norm.weight", "gpt_neox.final_layer_norm.bias", "embed_out.weight", null);
        if (b.dims().tiedEmbeddings()) {
            b.tie("embed_out.weight", "gpt_neox.embed_in.weight");
        }
    }

    /** Llama / Qwen2 / Mistral: separate q/k/v with GQA, RMSNorm, SwiGLU (scale on up rows, down columns). */
    static void llama(SpecTableBuilder b) {
        b.tensor("model.embed_tokens.weight", b.residualWrite(1), null);
        for (int l = 0; l < b.dims().layers(); l++) {
            String p = "model.layers." + l + ".";
            b.tensor(p + "self_attn.q_proj.weight", b.heads(0, l, false, Q), b.residualRead(1));
            b.optionalTensor(p + "self_attn.q_proj.bias", b.heads(0, l, false, Q), null);
            b.tensor(p + "self_attn.k_proj.weight", b.heads(0, l, false, K), b.residualRead(1));
            b.optionalTensor(p + "self_attn.k_proj.bias", b.heads(0, l, false, K), null);
            b.tensor(p + "self_attn.v_proj.weight", b.heads(0, l, false, V), b.residualRead(1));
            b.optionalTensor(p + "self_attn.v_proj.bias", b.heads(0, l, false, V), null);
            b.tensor(p + "self_attn.o_proj.weight", b.residualWrite(0), b.heads(1, l, false, O));
            b.optionalTensor(p + "self_attn.o_proj.bias", b.residualWrite(0), null);
            b.tensor(p + "mlp.gate_proj.weight", b.units(0, l, false), b.residualRead(1));
            b.optionalTensor(p + "mlp.gate_proj.bias", b.units(0, l, false), null);
            b.tensor(p + "mlp.up_proj.weight", b.units(0, l, true), b.residualRead(1));
            b.optionalTensor(p + "mlp.up_proj.bias", b.units(0, l, true), null);
            b.tensor(p + "mlp.down_proj.weight", b.residualWrite(0), b.units(1, l, true));
            b.optionalTensor(p + "mlp.down_proj.bias", b.residualWrite(0), null);
            b.norm(p + "input_layernorm.weight", null,
                    p + "self_attn.q_proj.weight", p + "self_attn.q_proj.bias",
                    p + "self_attn.k_proj.weight", p + "self_attn.k_proj.bias",
                    p + "self_attn.v_proj.weight", p + "self_attn.v_proj.bias");
            b.norm(p + "post_attention_layernorm.weight", null,
                    p + "mlp.gate_proj.weight", p + "mlp.gate_proj.bias",
                    p + "mlp.up_proj.weight", p + "mlp.up_proj.bias");
        }
        b.tensor("lm_head.weight", null, b.residualRead(1));
        b.norm("model.norm.weight", null, "lm_head.weight", null);
        if (b.dims().tiedEmbeddings()) {
            b.tie("lm_head.weight", "model.embed_tokens.weight");
        }
    }

    /** GPT-2: Conv1D [in, out] weights, c_attn columns [Q|K|V], learned positions, lm_head tied to wte. */
    static void gpt2(SpecTableBuilder b) {
        b.tensor("transformer.wte.weight", b.residualWrite(1), null);
        b.tensor("transformer.wpe.weight", b.residualWrite(1), null);
        for (int l = 0; l < b.dims().layers(); l++) {
            String p = "transformer.h." + l + ".";
            b.tensor(p + "attn.c_attn.weight", b.heads(1, l, false, Q, K, V), b.residualRead(0));
            b.tensor(p + "attn.c_attn.bias", b.heads(0, l, false, Q, K, V), null);
            b.tensor(p + "attn.c_proj.weight", b.residualWrite(1), b.heads(0, l, false, O));
            b.tensor(p + "attn.c_proj.bias", b.residualWrite(0), null);
            b.tensor(p + "mlp.c_fc.weight", b.units(1, l, false), b.residualRead(0));
            b.tensor(p + "mlp.c_fc.bias", b.units(0, l, false), null);
            b.tensor(p + "mlp.c_proj.weight", b.residualWrite(1), b.units(0, l, false));
            b.tensor(p + "mlp.c_proj.bias", b.residualWrite(0), null);
            b.norm(p + "ln_1.weight", p + "ln_1.bias", p + "attn.c_attn.weight", p + "attn.c_attn.bias");
            b.norm(p + "ln_2.weight", p + "ln_2.bias", p + "mlp.c_fc.weight", p + "mlp.c_fc.bias");
        }
        b.tensor("lm_head.weight", null, b.residualRead(1));
        b.norm("transformer.ln_f.weight", "transformer.ln_f.bias", "lm_head.weight", null);
        if (b.dims().tiedEmbeddings()) {
            b.tie("lm_head.weight", "transformer.wte.weight");
        }
    }

    /** ViT for image classification: patch projection, CLS token, positions, separate q/k/v, classifier. */
    static void vit(SpecTableBuilder b) {
        b.tensor("vit.embeddings.cls_token", b.residualWrite(2), null);
        b.tensor("vit.embeddings.position_embeddings", b.residualWrite(2), null);
        b.tensor("vit.embeddings.patch_embeddings.projection.weight", b.residualWrite(0), null);
        b.tensor("vit.embeddings.patch_embeddings.projection.bias", b.residualWrite(0), null);
        for (int l = 0; l < b.dims().layers(); l++) {
            String p = "vit.encoder.layer." + l + ".";
            String a = p + "attention.attention.";
            b.tensor(a + "query.weight", b.heads(0, l, false, Q), b.residualRead(1));
            b.optionalTensor(a + "query.bias", b.heads(0, l, false, Q), null);
            b.tensor(a + "key.weight", b.heads(0, l, false, K), b.residualRead(1));
            b.optionalTensor(a + "key.bias", b.heads(0, l, false, K), null);
            b.tensor(a + "value.weight", b.heads(0, l, false, V), b.residualRead(1));
            b.optionalTensor(a + "value.bias", b.heads(0, l, false, V), null);
            b.tensor(p + "attention.output.dense.weight", b.residualWrite(0), b.heads(1, l, false, O));
            b.tensor(p + "attention.output.dense.bias", b.residualWrite(0), null);
            b.tensor(p + "intermediate.dense.weight", b.units(0, l, false), b.residualRead(1));
            b.tensor(p + "intermediate.dense.bias", b.units(0, l, false), null);
            b.tensor(p + "output.dense.weight", b.residualWrite(0), b.units(1, l, false));
            b.tensor(p + "output.dense.bias", b.residualWrite(0), null);
            b.norm(p + "layernorm_before.weight", p + "layernorm_before.bias",
                    a + "query.weight", a + "query.bias", a + "key.weight", a + "key.bias",
                    a + "value.weight", a + "value.bias");
            b.norm(p + "layernorm_after.weight", p + "layernorm_after.bias",
                    p + "intermediate.dense.weight", p + "intermediate.dense.bias");
        }
        b.tensor("classifier.weight", null, b.residualRead(1));
        b.fixed("classifier.bias");
        b.norm("vit.layernorm.weight", "vit.layernorm.bias", "classifier.weight", "classifier.bias");
    }
}
