package dev.lmcmerge.eval;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Progress of a long loop on stderr: items done of total, throughput and ETA. Silent for the
 * first {@link #DEFAULT_DELAY_NANOS} (quick runs print nothing), then at most one line per
 * second, and a final line if anything was printed.
 */
public final class ProgressMeter {
    /** Runs shorter than this print no progress. */
    public static final long DEFAULT_DELAY_NANOS = 2_000_000_000L;
    private static final long INTERVAL_NANOS = 1_000_000_000L;

    private final PrintWriter err;
    private final String label;
    private final long total;
    private final String unit;
    private String items = "batches";
    private final LongSupplier clock;
    private final long delayNanos;
    private final long start;
    private long done;
    private long units;
    private long lastPrint;
    private boolean printed;
    private long printedDone = -1;

    /**
     * @param err   where progress goes (stderr)
     * @param label what runs, e.g. "eval"
     * @param total number of steps (batches) expected
     * @param unit  what throughput counts, e.g. "tokens"
     */
    public ProgressMeter(PrintWriter err, String label, long total, String unit) {
        this(err, label, total, unit, System::nanoTime, DEFAULT_DELAY_NANOS);
    }

    /** As above with an explicit clock (nanoseconds) and delay, for tests. */
    public ProgressMeter(PrintWriter err, String label, long total, String unit, LongSupplier clock, long delayNanos) {
        this.err = err;
        this.label = label;
        this.total = total;
        this.unit = unit;
        this.clock = clock;
        this.delayNanos = delayNanos;
        this.start = clock.getAsLong();
    }

    /** Names what the steps are in the printed lines ("batches" unless set), e.g. "tensors"; returns this meter. */
    public ProgressMeter items(String name) {
        this.items = name;
        return this;
    }

    /** Records one finished step that processed {@code stepUnits} units; may print a line. */
    public void step(long stepUnits) {
        done++;
        units += stepUnits;
        long now = clock.getAsLong();
        if (now - start >= delayNanos && (!printed || now - lastPrint >= INTERVAL_NANOS)) {
            print(now);
        }
    }

    /** Prints the final line if progress was shown at all (and the last line shown is not already it). */
    public void finish() {
        if (printed && printedDone != done) {
            print(clock.getAsLong());
        }
    }

    /** Units per second so far. */
    public double rate() {
        double s = (clock.getAsLong() - start) / 1e9;
        return s > 0 ? units / s : 0;
    }

    private void print(long now) {
        double seconds = (now - start) / 1e9;
        double rate = seconds > 0 ? units / seconds : 0;
        String eta = done > 0 && done < total ? ", ETA " + clock((long) (seconds / done * (total - done))) : "";
        err.printf(Locale.ROOT, "%s: %d/%d %s, %.0f %s/s, %s elapsed%s%n", label, done, total, items, rate, unit,
                clock((long) seconds), eta);
        err.flush();
        printed = true;
        printedDone = done;
        lastPrint = now;
    }

    private static String clock(long seconds) {
        return seconds >= 3600
                ? String.format(Locale.ROOT, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
                : String.format(Locale.ROOT, "%d:%02d", seconds / 60, seconds % 60);
    }
}
