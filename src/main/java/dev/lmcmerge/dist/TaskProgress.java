package dev.lmcmerge.dist;

import java.io.PrintWriter;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.LongSupplier;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * Progress of the run's long Spark jobs (barrier evaluation, the merged export) on the driver's
 * console: tasks done of the stage's total, rate and ETA, at most every few seconds per stage,
 * under the job's description ({@code evaluate dual: 12/33 tasks, 0.8 tasks/s, ETA 0:14}).
 * Learned steps report themselves ({@link StepProgress}); their stages are skipped.
 */
final class TaskProgress extends SparkListener {
    private static final long EVERY_NANOS = 5_000_000_000L;

    private final PrintWriter out;
    private final LongSupplier clock;
    private final long every;
    private final Map<Integer, Stage> stages = new HashMap<>();

    private static final class Stage {
        final String label;
        final int total;
        final long start;
        int done;
        long lastPrint;

        Stage(String label, int total, long start) {
            this.label = label;
            this.total = total;
            this.start = start;
            this.lastPrint = start;
        }
    }

    TaskProgress(PrintWriter out) {
        this(out, System::nanoTime, EVERY_NANOS);
    }

    TaskProgress(PrintWriter out, LongSupplier clock, long everyNanos) {
        this.out = out;
        this.clock = clock;
        this.every = everyNanos;
    }

    @Override
    public void onStageSubmitted(SparkListenerStageSubmitted e) {
        Properties p = e.properties();
        String label = p == null ? null : p.getProperty("spark.job.description");
        if (label == null || label.startsWith("align ")) {
            return;
        }
        stages.put(e.stageInfo().stageId(), new Stage(label, e.stageInfo().numTasks(), clock.getAsLong()));
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd e) {
        Stage s = stages.get(e.stageId());
        if (s == null || !e.taskInfo().successful()) {
            return;
        }
        s.done++;
        long now = clock.getAsLong();
        if (s.done < s.total && now - s.lastPrint >= every) {
            s.lastPrint = now;
            out.println(line(s, now));
            out.flush();
        }
    }

    @Override
    public void onStageCompleted(SparkListenerStageCompleted e) {
        stages.remove(e.stageInfo().stageId());
    }

    static String line(Stage s, long now) {
        double secs = (now - s.start) / 1e9;
        double rate = secs > 0 ? s.done / secs : 0;
        long eta = rate > 0 ? Math.round((s.total - s.done) / rate) : -1;
        return String.format(Locale.ROOT, "%s: %d/%d tasks, %.2f tasks/s, ETA %s", s.label, s.done, s.total, rate,
                eta < 0 ? "?" : String.format(Locale.ROOT, "%d:%02d", eta / 60, eta % 60));
    }

    /** For tests: the line printed for a stage with {@code done} of {@code total} tasks after {@code secs}. */
    static String lineFor(String label, int done, int total, double secs) {
        Stage s = new Stage(label, total, 0);
        s.done = done;
        return line(s, (long) (secs * 1e9));
    }
}
