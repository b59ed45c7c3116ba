package dev.lmcmerge.model;

/** The supported model families; several Hugging Face {@code model_type}s share one family. */
public enum Family {
    /** GPT-NeoX / Pythia ({@code model_type} gpt_neox). */
    GPT_NEOX("gpt_neox", true, true),
    /** Llama and its close relatives qwen2 and mistral. */
    LLAMA("llama", false, true),
    /** GPT-2. */
    GPT2("gpt2", true, true),
    /** ViT image classifier. */
    VIT("vit", true, false);

    private final String id;
    private final boolean layerNorm;
    private final boolean causalLm;

    Family(String id, boolean layerNorm, boolean causalLm) {
        this.id = id;
        this.layerNorm = layerNorm;
        this.causalLm = causalLm;
    }

    /** Lower-case name used in specs, docs and messages ({@code gpt_neox}, {@code llama}, {@code gpt2}, {@code vit}). */
    public String id() {
        return id;
    }

    /** True for LayerNorm models (mean-centering norms); false for RMSNorm (llama). */
    public boolean layerNorm() {
        return layerNorm;
    }

    /** True for causal language models (token ids in, next-token logits out); false for ViT. */
    public boolean causalLm() {
        return causalLm;
    }
}
