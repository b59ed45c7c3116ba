package dev.lmcmerge.model;

/** The {@link Architecture} of a configured model. */
public final class Architectures {
    private Architectures() {
    }

    /** One architecture per family; qwen2 and mistral configs run as {@link LlamaArchitecture}. */
    public static Architecture of(ModelConfig cfg) {
        return switch (cfg.family()) {
            case GPT_NEOX -> new GptNeoxArchitecture(cfg);
            case LLAMA -> new LlamaArchitecture(cfg);
            case GPT2 -> new Gpt2Architecture(cfg);
            case VIT -> new VitArchitecture(cfg);
        };
    }
}
