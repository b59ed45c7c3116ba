package dev.lmcmerge.align;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.LmcException;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AlphaLawTest {

    @Test
    void narrowSamplesStayInsideFourTenthsToSixTenthsAndCoverIt() {
        AlphaLaw law = AlphaLaw.parse("narrow");
        Random rng = new Random(1);
        double min = 1;
        double max = 0;
        for (int i = 0; i < 2000; i++) {
            double a = law.sample(rng);
            min = Math.min(min, a);
            max = Math.max(max, a);
        }
        assertTrue(min >= 0.4 && min < 0.41);
        assertTrue(max <= 0.6 && max > 0.59);
    }

    @Test
    void uniformCoversTheWholeUnitInterval() {
        AlphaLaw law = AlphaLaw.parse("uniform");
        Random rng = new Random(2);
        double min = 1;
        double max = 0;
        for (int i = 0; i < 2000; i++) {
            double a = law.sample(rng);
            min = Math.min(min, a);
            max = Math.max(max, a);
        }
        assertTrue(min < 0.01 && max > 0.99);
    }

    @Test
    void fixedAlwaysReturnsItsValue() {
        Random rng = new Random(3);
        assertEquals(0.5, AlphaLaw.parse("fixed").sample(rng), 0);
        assertEquals(0.3, AlphaLaw.parse("fixed:0.3").sample(rng), 0);
    }

    @Test
    void anUnknownLawIsAUsageError() {
        assertThrows(LmcException.class, () -> AlphaLaw.parse("gaussian"));
        assertThrows(LmcException.class, () -> AlphaLaw.parse("fixed:1.5"));
    }
}
