package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The progress line of a long Spark job: tasks done of total, rate and ETA. */
class TaskProgressTest {
    @Test
    void theLineShowsTasksRateAndEta() {
        assertEquals("evaluate dual: 12/33 tasks, 0.80 tasks/s, ETA 0:26",
                TaskProgress.lineFor("evaluate dual", 12, 33, 15));
    }

    @Test
    void theEtaIsUnknownBeforeAnyRate() {
        assertEquals("write merged: 0/4 tasks, 0.00 tasks/s, ETA ?", TaskProgress.lineFor("write merged", 0, 4, 0));
    }
}
