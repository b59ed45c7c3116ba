package dev.lmcmerge.dist;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.ExceptionFailure;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * Records every ended Spark task of a session while registered (not a test class), with the
 * description of the job its stage ran for, so a test can tell that a failure happened in an
 * executor task and that Spark ran that task again.
 */
final class SparkTaskLog extends SparkListener implements AutoCloseable {
    /** One ended task attempt; {@code error} is null when it succeeded. */
    record Attempt(String job, int stage, int index, int attempt, String error) {}

    private final SparkContext sc;
    private final Map<Integer, String> jobOfStage = new ConcurrentHashMap<>();
    private final List<Attempt> attempts = new ArrayList<>();

    private SparkTaskLog(SparkContext sc) {
        this.sc = sc;
    }

    /** Starts recording the tasks of {@code sc} (of stages submitted from now on). */
    static SparkTaskLog on(SparkContext sc) {
        SparkTaskLog log = new SparkTaskLog(sc);
        log.waitForEvents(); // events of earlier jobs (e.g. a failed job's straggling tasks) are not ours
        sc.addSparkListener(log);
        return log;
    }

    @Override
    public void onStageSubmitted(SparkListenerStageSubmitted e) {
        String job = e.properties() == null ? null : e.properties().getProperty("spark.job.description");
        jobOfStage.put(e.stageInfo().stageId(), String.valueOf(job));
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd e) {
        if (!jobOfStage.containsKey(e.stageId())) {
            return; // a task of a stage submitted before this log started
        }
        String error = e.taskInfo().successful() ? null
                : e.reason() instanceof ExceptionFailure f ? f.description() : e.reason().toString();
        attempts.add(new Attempt(jobOfStage.get(e.stageId()), e.stageId(), e.taskInfo().index(),
                e.taskInfo().attemptNumber(), error));
    }

    /** Every task attempt that ended so far (after the listener bus delivered the pending events). */
    List<Attempt> attempts() {
        waitForEvents();
        synchronized (this) {
            return List.copyOf(attempts);
        }
    }

    private void waitForEvents() {
        // Events reach listeners asynchronously; a test reads them after its job returned.
        try {
            sc.listenerBus().waitUntilEmpty(30_000);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Spark's listener bus did not drain in 30 s", e);
        }
    }

    @Override
    public void close() {
        sc.removeSparkListener(this);
    }
}
