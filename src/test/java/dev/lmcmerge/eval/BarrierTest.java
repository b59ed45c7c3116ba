package dev.lmcmerge.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import org.junit.jupiter.api.Test;

class BarrierTest {

    @Test
    void aBumpAboveTheChordIsMeasuredFromTheChordNotFromTheEndpoints() {
        // Endpoints 2 and 4: chord at alpha 0.5 is 3; the curve reaches 5 there.
        Barrier b = Barrier.of(new double[] {0, 0.25, 0.5, 0.75, 1}, new double[] {2, 3.9, 5, 4.2, 4});
        assertEquals(2.0, b.barrier(), 1e-12);
        assertEquals(0.5, b.argmaxAlpha(), 0);
        assertEquals(2.0 / 3.0, b.barrierRel(), 1e-12);
        assertEquals(2.0, b.lossA(), 0);
        assertEquals(4.0, b.lossB(), 0);
    }

    @Test
    void theLargestExcessWinsEvenOffCentre() {
        // chord: 1 + 2*alpha. Excess at 0.2: 2.0-1.4 = 0.6; at 0.8: 3.5-2.6 = 0.9.
        Barrier b = Barrier.of(new double[] {0, 0.2, 0.8, 1}, new double[] {1, 2.0, 3.5, 3});
        assertEquals(0.9, b.barrier(), 1e-12);
        assertEquals(0.8, b.argmaxAlpha(), 0);
    }

    @Test
    void aCurveBelowTheChordHasZeroBarrier() {
        Barrier b = Barrier.of(new double[] {0, 0.5, 1}, new double[] {3, 1, 3});
        assertEquals(0.0, b.barrier(), 0);
        assertEquals(0.0, b.barrierRel(), 0);
    }

    @Test
    void aStraightLineHasZeroBarrier() {
        double[] a = Barrier.grid(11);
        double[] l = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            l[i] = 2 + 3 * a[i];
        }
        assertEquals(0.0, Barrier.of(a, l).barrier(), 1e-12);
    }

    @Test
    void theGridRunsFromExactlyZeroToExactlyOne() {
        assertArrayEquals(new double[] {0, 0.25, 0.5, 0.75, 1}, Barrier.grid(5), 1e-15);
        assertEquals(1.0, Barrier.grid(11)[10], 0);
    }

    @Test
    void aGridThatMissesAnEndpointIsRejected() {
        LmcException e = assertThrows(LmcException.class,
                () -> Barrier.of(new double[] {0, 0.5}, new double[] {1, 2}));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
    }

    @Test
    void aNonFiniteLossIsRejected() {
        assertThrows(LmcException.class,
                () -> Barrier.of(new double[] {0, 0.5, 1}, new double[] {1, Double.NaN, 2}));
    }
}
