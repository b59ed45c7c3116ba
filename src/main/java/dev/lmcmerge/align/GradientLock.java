package dev.lmcmerge.align;

import ai.djl.engine.Engine;
import ai.djl.training.GradientCollector;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * One autograd recording at a time per JVM. DJL's PyTorch {@link GradientCollector} keeps a
 * JVM-wide "collecting" flag and refuses a second collector, so every gradient computation in
 * this project (learned matching here, Spark tasks sharing an executor JVM in dist) takes this
 * lock for the lifetime of its collector. Forward passes without a graph need no lock.
 */
public final class GradientLock {
    private static final ReentrantLock LOCK = new ReentrantLock();

    private GradientLock() {
    }

    /** Runs {@code body} with a fresh collector while holding the JVM-wide lock. */
    public static void collect(Consumer<GradientCollector> body) {
        LOCK.lock();
        try (GradientCollector c = Engine.getInstance().newGradientCollector()) {
            body.accept(c);
        } finally {
            LOCK.unlock();
        }
    }
}
