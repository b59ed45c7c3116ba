package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The driver's progress line: step, loss, rate and ETA, throttled but never silent on the first and last step. */
class StepProgressTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void lineShowsStepLossRateAndEta() {
        AtomicLong now = new AtomicLong(0);
        StepProgress p = new StepProgress(new PrintWriter(new StringWriter()), "align dual", 200, 0, now::get, SECOND);
        assertEquals("align dual: step 17/200, loss 3.4102, lr 1.0e-03, 2.00 steps/s, ETA 1:32",
                p.line(17, 3.41023, 1e-3, (long) (8.5 * SECOND)));
    }

    @Test
    void rateCountsOnlyStepsTakenAfterAResume() {
        AtomicLong now = new AtomicLong(0);
        StepProgress p = new StepProgress(new PrintWriter(new StringWriter()), "align dual", 100, 50, now::get, SECOND);
        assertTrue(p.line(60, 2.0, 1e-3, 5 * SECOND).contains("2.00 steps/s, ETA 0:20"));
    }

    @Test
    void printsAtMostOncePerIntervalButAlwaysTheFirstAndLastStep() {
        AtomicLong now = new AtomicLong(0);
        StringWriter out = new StringWriter();
        StepProgress p = new StepProgress(new PrintWriter(out), "x", 4, 0, now::get, SECOND);
        for (int t = 1; t <= 4; t++) {
            now.addAndGet(SECOND / 10);
            p.step(t, 1.0, 1e-3);
        }
        String[] lines = out.toString().trim().split("\n");
        assertEquals(2, lines.length, out.toString());
        assertTrue(lines[0].startsWith("x: step 1/4") && lines[1].startsWith("x: step 4/4"));
    }
}
