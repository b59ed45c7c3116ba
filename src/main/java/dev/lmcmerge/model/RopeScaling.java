package dev.lmcmerge.model;

/**
 * The RoPE frequency rewrite of a config ({@code rope_scaling} or {@code rope_parameters}).
 * Supported types: {@code default} (none), {@code linear} (positions divided by {@code factor})
 * and {@code llama3} (Hugging Face {@code _compute_llama3_parameters}).
 *
 * @param type                 {@code default}, {@code linear} or {@code llama3}
 * @param factor               the scaling factor (1 for default)
 * @param lowFreqFactor        llama3 {@code low_freq_factor} (0 when unused)
 * @param highFreqFactor       llama3 {@code high_freq_factor} (0 when unused)
 * @param originalMaxPositions llama3 {@code original_max_position_embeddings} (0 when unused)
 */
public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositions) {

    public static final String DEFAULT = "default";
    public static final String LINEAR = "linear";
    public static final String LLAMA3 = "llama3";

    /** No scaling. */
    public static final RopeScaling NONE = new RopeScaling(DEFAULT, 1.0, 0, 0, 0);

    public static RopeScaling linear(double factor) {
        return new RopeScaling(LINEAR, factor, 0, 0, 0);
    }

    public static RopeScaling llama3(double factor, double lowFreqFactor, double highFreqFactor,
                                     int originalMaxPositions) {
        return new RopeScaling(LLAMA3, factor, lowFreqFactor, highFreqFactor, originalMaxPositions);
    }

    public boolean isNone() {
        return DEFAULT.equals(type);
    }

    /**
     * The inverse frequencies {@code 1 / theta^(2j/r)} for {@code j < r/2}, rewritten by this
     * scaling, computed like transformers (float32 exponent, float32 result).
     */
    public float[] inverseFrequencies(int rotaryDim, double theta) {
        int half = rotaryDim / 2;
        float[] inv = new float[half];
        for (int j = 0; j < half; j++) {
            // transformers: 1.0 / (base ** (arange(0, dim, 2).float() / dim)) in float32.
            float exponent = (float) (2 * j) / (float) rotaryDim;
            inv[j] = (float) (1.0 / (float) Math.pow(theta, exponent));
        }
        switch (type) {
            case DEFAULT -> { }
            case LINEAR -> {
                for (int j = 0; j < half; j++) {
                    inv[j] = (float) (inv[j] / factor);
                }
            }
            case LLAMA3 -> llama3Rewrite(inv);
            default -> throw new IllegalStateException("unsupported rope type " + type);
        }
        return inv;
    }

    /** transformers {@code _compute_llama3_parameters}: keep high, divide low, interpolate medium frequencies. */
    private void llama3Rewrite(float[] inv) {
        double lowFreqWavelen = originalMaxPositions / lowFreqFactor;
        double highFreqWavelen = originalMaxPositions / highFreqFactor;
        for (int j = 0; j < inv.length; j++) {
            float f = inv[j];
            double wavelen = 2 * Math.PI / f;
            float scaled = wavelen > lowFreqWavelen ? (float) (f / factor) : f;
            boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            if (medium) {
                double smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                scaled = (float) ((1 - smooth) * scaled / factor + smooth * scaled);
            }
            inv[j] = scaled;
        }
    }
}
