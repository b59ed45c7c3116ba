package dev.lmcmerge.align;

import ai.djl.ndarray.NDArray;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.CosineTracker;
import ai.djl.training.tracker.LinearTracker;
import ai.djl.training.tracker.Tracker;
import ai.djl.training.tracker.WarmUpTracker;
import dev.lmcmerge.config.LmcException;
import java.util.Locale;

/**
 * Adam on bare NDArrays (transform parameters are not DJL Blocks) with a linear warm-up from 0
 * and then a constant, linear or cosine decay to {@code finalFraction * lr} at the last step.
 * DJL's {@link Optimizer#adam()} keeps the moments per parameter id and updates the array in
 * place, so the caller owns the arrays and calls {@link #update} once per parameter per step.
 */
public final class AdamSchedule {

    /** Learning-rate shapes after warm-up. */
    public enum Shape { CONSTANT, LINEAR, COSINE;

        public static Shape parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw LmcException.usage("align.schedule", "unknown schedule '" + s + "'; expected constant, linear or cosine");
            }
        }
    }

    private final Optimizer adam;
    private final Tracker tracker;

    /** Cosine decay to 0 after {@code warmupSteps} of linear warm-up. */
    public AdamSchedule(double lr, int steps, int warmupSteps) {
        this(lr, steps, warmupSteps, Shape.COSINE, 0.0);
    }

    /**
     * @param lr            peak learning rate
     * @param steps         total optimizer steps (the decay reaches its end here)
     * @param warmupSteps   linear warm-up steps (0 for none)
     * @param shape         the learning-rate shape after warm-up
     * @param finalFraction learning rate at the end as a fraction of {@code lr} (linear, cosine)
     */
    public AdamSchedule(double lr, int steps, int warmupSteps, Shape shape, double finalFraction) {
        if (!(lr > 0) || steps < 1 || warmupSteps < 0 || warmupSteps >= steps) {
            throw LmcException.usage("align.lr/steps/warmup", "need lr > 0, steps >= 1 and 0 <= warm-up < steps; got lr="
                    + lr + " steps=" + steps + " warmup=" + warmupSteps);
        }
        int decaySteps = Math.max(1, steps - warmupSteps);
        float base = (float) lr;
        float end = (float) (lr * finalFraction);
        Tracker main = switch (shape) {
            case CONSTANT -> Tracker.fixed(base);
            case LINEAR -> LinearTracker.builder().setBaseValue(base).optSlope((end - base) / decaySteps)
                    .optMaxUpdates(decaySteps).build();
            case COSINE -> CosineTracker.builder().setBaseValue(base).optFinalValue(end).setMaxUpdates(decaySteps).build();
        };
        this.tracker = warmupSteps == 0 ? main
                : WarmUpTracker.builder().setMainTracker(main).optWarmUpSteps(warmupSteps).optWarmUpBeginValue(0f).build();
        this.adam = Optimizer.adam().optLearningRateTracker(tracker).build();
    }

    /** The learning rate at (1-based) step {@code t}. */
    public float learningRate(int t) {
        return tracker.getNewValue(t);
    }

    /** One Adam step on {@code param} (in place) with gradient {@code grad}; {@code id} names the parameter. */
    public void update(String id, NDArray param, NDArray grad) {
        adam.update(id, param, grad);
    }
}
