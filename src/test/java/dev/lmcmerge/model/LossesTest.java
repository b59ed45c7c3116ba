package dev.lmcmerge.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** Losses with Hugging Face semantics, checked against values computed by hand. */
class LossesTest {

    @Test
    void uniformLogitsGiveLogVocab() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray logits = m.zeros(new Shape(2, 5, 7));
            NDArray ids = m.create(new long[] {1, 2, 3, 4, 5, 6, 0, 1, 2, 3}, new Shape(2, 5));
            assertEquals(Math.log(7), Losses.causalLm(logits, ids).getFloat(), 1e-6);
            assertEquals(8, Losses.predictedTokens(ids));
        }
    }

    @Test
    void positionTPredictsTokenTPlusOne() {
        try (NDManager m = NDManager.newBaseManager()) {
            long[] ids = {3, 1, 4, 1, 5};
            int v = 6;
            float[] next = new float[5 * v];
            float[] same = new float[5 * v];
            for (int t = 0; t < 5; t++) {
                same[t * v + (int) ids[t]] = 30f;
                if (t + 1 < 5) {
                    next[t * v + (int) ids[t + 1]] = 30f;
                }
            }
            NDArray x = m.create(ids, new Shape(1, 5));
            // Logits peaked on the following token: near-zero loss; on the current token: large.
            assertEquals(0.0, Losses.causalLm(m.create(next, new Shape(1, 5, v)), x).getFloat(), 1e-6);
            assertEquals(30.0, Losses.causalLm(m.create(same, new Shape(1, 5, v)), x).getFloat(), 0.1);
        }
    }

    @Test
    void meanIsOverEveryPredictedToken() {
        try (NDManager m = NDManager.newBaseManager()) {
            // One sequence, two predictions: -log softmax([0, ln 3])[1] = ln(4/3), and [0, 0] gives ln 2.
            NDArray logits = m.create(new float[] {0f, (float) Math.log(3), 0f, 0f, 9f, 9f}, new Shape(1, 3, 2));
            NDArray ids = m.create(new long[] {0, 1, 0}, new Shape(1, 3));
            double expected = (Math.log(4.0 / 3.0) + Math.log(2)) / 2;
            assertEquals(expected, Losses.causalLm(logits, ids).getFloat(), 1e-6);
            assertEquals(2 * expected, Losses.causalLmSum(logits, ids).getFloat(), 1e-6);
            // int32 ids give the same result.
            assertEquals(expected, Losses.causalLm(logits, ids.toType(ai.djl.ndarray.types.DataType.INT32, false))
                    .getFloat(), 1e-6);
        }
    }

    @Test
    void classificationCrossEntropyAndAccuracy() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray logits = m.create(new float[] {2f, 0f, 0f, 0f, 1f, 3f}, new Shape(2, 3));
            NDArray labels = m.create(new long[] {0, 1});
            double row0 = -(2 - Math.log(Math.exp(2) + 2));
            double row1 = -(1 - Math.log(1 + Math.exp(1) + Math.exp(3)));
            assertEquals((row0 + row1) / 2, Losses.classification(logits, labels).getFloat(), 1e-6);
            assertEquals(1, Losses.correct(logits, labels));
            assertEquals(0.5, Losses.accuracy(logits, labels), 0.0);
        }
    }
}
