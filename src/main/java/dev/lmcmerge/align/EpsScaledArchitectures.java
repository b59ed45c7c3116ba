package dev.lmcmerge.align;

import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Architectures;
import dev.lmcmerge.model.ModelConfig;

/**
 * The architecture of a model whose norms' eps is multiplied by a factor: a residual scale c is
 * exact only with eps -> c^2 eps (SYMMETRIES.md section 0), so a path whose endpoints carry
 * residual scales runs with the interpolated factor. The factor 1 returns the base architecture.
 * The factor is a constant of each forward pass: no gradient flows through eps (its effect on the
 * loss is of order eps / mean(h^2), far below the other terms).
 */
public final class EpsScaledArchitectures {
    private final Architecture base;
    private double cachedFactor = Double.NaN;
    private Architecture cached;

    public EpsScaledArchitectures(Architecture base) {
        this.base = base;
    }

    public Architecture base() {
        return base;
    }

    /** The architecture with every norm eps multiplied by {@code factor}. */
    public synchronized Architecture forFactor(double factor) {
        if (factor == 1.0) {
            return base;
        }
        if (factor != cachedFactor) {
            cached = Architectures.of(withNormEps(base.config(), base.config().normEps() * factor));
            cachedFactor = factor;
        }
        return cached;
    }

    static ModelConfig withNormEps(ModelConfig c, double eps) {
        return new ModelConfig(c.family(), c.modelType(), c.numLayers(), c.hiddenSize(), c.numHeads(), c.numKvHeads(),
                c.headDim(), c.intermediateSize(), c.vocabSize(), c.numLabels(), c.maxPositions(), eps,
                c.rotaryDim(), c.ropeTheta(), c.ropeScaling(), c.parallelResidual(), c.tieWordEmbeddings(),
                c.qkvBias(), c.attnOutBias(), c.mlpBias(), c.hiddenAct(), c.imageSize(), c.patchSize(),
                c.numChannels(), c.slidingWindow(), c.slidingWindowFromLayer(), c.scaleAttnByInverseLayerIdx());
    }
}
