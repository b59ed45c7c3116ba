package dev.lmcmerge.dist;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The driver's progress line of learned steps: step, loss, learning rate, rate and ETA, e.g.
 * {@code align dual: step 17/200, loss 3.4102, lr 9.8e-04, 1.32 steps/s, ETA 2:18}. Printed at
 * most once per {@code intervalNanos} and always for the first and last step.
 */
public final class StepProgress {
    private final PrintWriter out;
    private final String label;
    private final int total;
    private final int first;
    private final LongSupplier clock;
    private final long intervalNanos;
    private final long start;
    private long lastPrint = Long.MIN_VALUE;

    /**
     * @param first the step the run starts from (after a resume, the saved step), so the rate
     *              counts only the steps taken here
     */
    public StepProgress(PrintWriter out, String label, int total, int first) {
        this(out, label, total, first, System::nanoTime, 1_000_000_000L);
    }

    StepProgress(PrintWriter out, String label, int total, int first, LongSupplier clock, long intervalNanos) {
        this.out = out;
        this.label = label;
        this.total = total;
        this.first = first;
        this.clock = clock;
        this.intervalNanos = intervalNanos;
        this.start = clock.getAsLong();
    }

    /** Records step {@code step} (1-based) with its loss and learning rate. */
    public void step(int step, double loss, double lr) {
        long now = clock.getAsLong();
        if (step != first + 1 && step != total && now - lastPrint < intervalNanos) {
            return;
        }
        lastPrint = now;
        out.println(line(step, loss, lr, now));
        out.flush();
    }

    String line(int step, double loss, double lr, long now) {
        double seconds = (now - start) / 1e9;
        int done = step - first;
        double rate = seconds > 0 ? done / seconds : 0;
        String eta = step < total && rate > 0 ? ", ETA " + clock((long) Math.ceil((total - step) / rate)) : "";
        return String.format(Locale.ROOT, "%s: step %d/%d, loss %.4f, lr %.1e, %.2f steps/s%s", label, step, total, loss,
                lr, rate, eta);
    }

    static String clock(long seconds) {
        return seconds >= 3600
                ? String.format(Locale.ROOT, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
                : String.format(Locale.ROOT, "%d:%02d", seconds / 60, seconds % 60);
    }
}
