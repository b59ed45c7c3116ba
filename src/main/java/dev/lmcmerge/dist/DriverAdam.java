package dev.lmcmerge.dist;

import dev.lmcmerge.align.AdamSchedule;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam on the driver over plain float arrays, with align's learning-rate schedule
 * ({@link AdamSchedule#learningRate}) and the update of DJL's Adam (beta1 0.9, beta2 0.999,
 * eps 1e-8, bias correction folded into the step size). Written here rather than calling DJL's
 * optimizer because a resumed run must continue with the exact moments, and DJL keeps Adam's
 * moments private; here they are plain arrays saved with every checkpoint.
 */
public final class DriverAdam {
    static final double BETA1 = 0.9;
    static final double BETA2 = 0.999;
    static final double EPS = 1e-8;

    private final AdamSchedule schedule;
    private final Map<String, FloatTensor> m = new LinkedHashMap<>();
    private final Map<String, FloatTensor> v = new LinkedHashMap<>();

    public DriverAdam(AdamSchedule schedule) {
        this.schedule = schedule;
    }

    /**
     * Step {@code t} (1-based): updates {@code params} in place with {@code grads} (same names; names
     * without a gradient are left alone).
     *
     * @return the learning rate of the step (before bias correction)
     */
    public float step(int t, Map<String, FloatTensor> params, Map<String, FloatTensor> grads) {
        float lr = schedule.learningRate(t);
        double c1 = 1 - Math.pow(BETA1, t);
        double c2 = 1 - Math.pow(BETA2, t);
        float stepSize = (float) (lr * Math.sqrt(c2) / c1);
        for (Map.Entry<String, FloatTensor> e : grads.entrySet()) {
            FloatTensor p = params.get(e.getKey());
            if (p == null) {
                throw new IllegalArgumentException("gradient for unknown parameter " + e.getKey());
            }
            float[] g = e.getValue().values();
            float[] w = p.values();
            float[] mm = m.computeIfAbsent(e.getKey(), k -> FloatTensor.zeros(p.shape())).values();
            float[] vv = v.computeIfAbsent(e.getKey(), k -> FloatTensor.zeros(p.shape())).values();
            for (int i = 0; i < w.length; i++) {
                mm[i] = (float) (BETA1 * mm[i] + (1 - BETA1) * g[i]);
                vv[i] = (float) (BETA2 * vv[i] + (1 - BETA2) * g[i] * g[i]);
                w[i] -= stepSize * mm[i] / (float) (Math.sqrt(vv[i]) + EPS);
            }
        }
        return lr;
    }

    /** The moments as named tensors ({@code m/NAME}, {@code v/NAME}) for a checkpoint. */
    public Map<String, FloatTensor> state() {
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        m.forEach((k, x) -> out.put("m/" + k, x.copy()));
        v.forEach((k, x) -> out.put("v/" + k, x.copy()));
        return out;
    }

    /** Restores moments saved by {@link #state()}. */
    public void restore(Map<String, FloatTensor> state) {
        m.clear();
        v.clear();
        state.forEach((k, x) -> {
            if (k.startsWith("m/")) {
                m.put(k.substring(2), x.copy());
            } else if (k.startsWith("v/")) {
                v.put(k.substring(2), x.copy());
            }
        });
    }
}
