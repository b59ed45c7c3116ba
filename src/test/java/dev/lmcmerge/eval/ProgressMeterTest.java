package dev.lmcmerge.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressMeterTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void finishPrintsTheLastStateWhenItWasNotShownYet() {
        StringWriter s = new StringWriter();
        AtomicLong now = new AtomicLong();
        ProgressMeter m = new ProgressMeter(new PrintWriter(s), "eval", 3, "tokens", now::get, 2 * SECOND);
        now.addAndGet(3 * SECOND);
        m.step(10); // printed: 1/3
        now.addAndGet(SECOND / 10);
        m.step(10); // within the second: not printed
        m.finish();
        String[] lines = s.toString().strip().split("\n");
        assertEquals(2, lines.length, s.toString());
        assertTrue(lines[1].startsWith("eval: 2/3 batches"), lines[1]);
    }

    @Test
    void theStepsCanBeNamedForWhatTheyAre() {
        StringWriter s = new StringWriter();
        AtomicLong now = new AtomicLong();
        ProgressMeter m = new ProgressMeter(new PrintWriter(s), "reading model A", 148, "MB", now::get, 2 * SECOND)
                .items("tensors");
        now.addAndGet(3 * SECOND);
        m.step(300);
        assertTrue(s.toString().startsWith("reading model A: 1/148 tensors, 100 MB/s, 0:03 elapsed, ETA "), s.toString());
    }

    @Test
    void quickRunsPrintNothing() {
        StringWriter s = new StringWriter();
        AtomicLong now = new AtomicLong();
        ProgressMeter m = new ProgressMeter(new PrintWriter(s), "eval", 10, "tokens", now::get, 2 * SECOND);
        for (int i = 0; i < 10; i++) {
            now.addAndGet(SECOND / 10);
            m.step(100);
        }
        m.finish();
        assertEquals("", s.toString());
    }

    @Test
    void slowRunsPrintBatchesRateAndEtaAboutOncePerSecond() {
        StringWriter s = new StringWriter();
        AtomicLong now = new AtomicLong();
        ProgressMeter m = new ProgressMeter(new PrintWriter(s), "eval", 10, "tokens", now::get, 2 * SECOND);
        for (int i = 0; i < 10; i++) {
            now.addAndGet(SECOND / 2);
            m.step(1000);
        }
        m.finish();
        String[] lines = s.toString().strip().split("\n");
        // printed at 2.0 s, 3.0 s, 4.0 s and 5.0 s (step 10, which finish() does not repeat)
        assertEquals(4, lines.length, s.toString());
        assertTrue(lines[0].startsWith("eval: 4/10 batches, 2000 tokens/s, 0:02 elapsed, ETA 0:03"), lines[0]);
        assertTrue(lines[3].startsWith("eval: 10/10 batches, 2000 tokens/s, 0:05 elapsed"), lines[3]);
    }
}
