package dev.lmcmerge.dist;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything learned matching needs to continue exactly where it stopped: the completed step
 * count, the transform parameters, the optimizer's state and the loss of every step so far.
 * The random choices of a step (its alpha, its batches) are functions of (seed, step), so no
 * random-generator state needs saving.
 *
 * @param method     the learned method this state belongs to ({@code one-sided}, {@code dual})
 * @param step       steps completed (0 = not started)
 * @param params     transform parameters by name (e.g. {@code b/residual})
 * @param optimizer  optimizer state by name (e.g. Adam moments), opaque to this class
 * @param losses     loss of steps 1..step
 * @param fingerprint the configuration the state was made with, key -> value, to refuse resuming
 *                   with a different one
 */
public record TrainingState(String method, int step, Map<String, FloatTensor> params,
                            Map<String, FloatTensor> optimizer, double[] losses, Map<String, String> fingerprint) {

    public TrainingState {
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
        optimizer = Collections.unmodifiableMap(new LinkedHashMap<>(optimizer));
        fingerprint = Collections.unmodifiableMap(new LinkedHashMap<>(fingerprint));
        if (losses.length != step) {
            throw new IllegalArgumentException(losses.length + " step losses for " + step + " steps");
        }
    }
}
