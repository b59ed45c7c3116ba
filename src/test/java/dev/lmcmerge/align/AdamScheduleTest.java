package dev.lmcmerge.align;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

class AdamScheduleTest {

    @Test
    void theLearningRateWarmsUpThenDecaysByCosine() {
        AdamSchedule s = new AdamSchedule(0.1, 110, 10);
        assertTrue(s.learningRate(1) < s.learningRate(5));
        assertEquals(0.1, s.learningRate(10), 1e-6);
        assertEquals(0.05, s.learningRate(60), 1e-3);
        assertTrue(s.learningRate(109) < 1e-3);
    }

    @Test
    void linearAndConstantShapesReachTheirEnds() {
        AdamSchedule lin = new AdamSchedule(0.2, 100, 0, AdamSchedule.Shape.LINEAR, 0.1);
        assertEquals(0.2, lin.learningRate(0), 1e-6);
        assertEquals(0.02, lin.learningRate(100), 1e-6);
        AdamSchedule cst = new AdamSchedule(0.2, 100, 0, AdamSchedule.Shape.CONSTANT, 0.0);
        assertEquals(0.2, cst.learningRate(99), 1e-7);
    }

    @Test
    void adamOnABareArrayMinimizesAQuadratic() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray target = m.create(new float[] {1f, -2f, 3f});
            NDArray x = m.zeros(target.getShape());
            AdamSchedule s = new AdamSchedule(0.1, 400, 20);
            for (int t = 0; t < 400; t++) {
                NDArray grad = x.sub(target).mul(2f);
                s.update("x", x, grad);
            }
            assertTrue(x.sub(target).abs().max().getFloat() < 1e-2, "x = " + x);
        }
    }
}
