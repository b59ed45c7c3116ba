package dev.lmcmerge.dist;

import ai.djl.ndarray.NDManager;

/**
 * The tensor scope of one task: picks the task's device and libtorch threads
 * ({@link Devices}) and owns every array the task makes; closing it frees them all (cached
 * weights stay in the {@link ExecutorModelCache}).
 */
public final class TaskScope implements AutoCloseable {
    private final NDManager manager;
    private final Devices.Choice choice;

    private TaskScope(NDManager manager, Devices.Choice choice) {
        this.manager = manager;
        this.choice = choice;
    }

    /** Opens the scope of the running task. */
    public static TaskScope open(JobContext ctx) {
        Devices.Choice c = Devices.forCurrentTask(ctx.compute());
        return new TaskScope(NDManager.newBaseManager(c.device()), c);
    }

    /** The task's manager. */
    public NDManager manager() {
        return manager;
    }

    /** The task's device and threads. */
    public Devices.Choice choice() {
        return choice;
    }

    @Override
    public void close() {
        manager.close();
    }
}
