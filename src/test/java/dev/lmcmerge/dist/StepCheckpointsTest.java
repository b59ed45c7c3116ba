package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StepCheckpointsTest {
    @TempDir
    Path tmp;

    private StepCheckpoints store() {
        return new StepCheckpoints(new org.apache.hadoop.fs.Path(tmp.toUri()), new Configuration());
    }

    private static TrainingState state(int step, float seed) {
        Map<String, FloatTensor> params = new LinkedHashMap<>();
        params.put("b/residual", new FloatTensor(new long[] {1, 2, 2}, new float[] {seed, 1e-7f, -3.5f, Float.MIN_VALUE}));
        params.put("a/qk.0", new FloatTensor(new long[] {3}, new float[] {1, 2, seed}));
        Map<String, FloatTensor> opt = Map.of("m/b/residual", new FloatTensor(new long[] {4}, new float[] {0.1f, 0.2f, 0.3f, seed}));
        double[] losses = new double[step];
        for (int i = 0; i < step; i++) {
            losses[i] = 3.0 / (i + 1) + 1e-13;
        }
        return new TrainingState("dual", step, params, opt, losses, Map.of("lmc.align.seed", "7"));
    }

    @Test
    void savedStateReadsBackBitForBit() {
        TrainingState s = state(5, 0.123456789f);
        store().save(s);
        TrainingState r = store().latest("dual", Map.of("lmc.align.seed", "7")).orElseThrow();
        assertEquals(5, r.step());
        assertEquals(s.params(), r.params());
        assertEquals(s.optimizer(), r.optimizer());
        assertArrayEquals(s.losses(), r.losses());
        assertEquals(java.util.List.copyOf(s.params().keySet()), java.util.List.copyOf(r.params().keySet()));
    }

    @Test
    void latestIsTheNewestSaveAndOnlyTwoAreKept() throws IOException {
        for (int step = 1; step <= 4; step++) {
            store().save(state(step, step));
        }
        assertEquals(4, store().latest("dual", Map.of()).orElseThrow().step());
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(2, files.count());
        }
        assertTrue(store().latest("one-sided", Map.of()).isEmpty(), "states are per method");
    }

    @Test
    void resumingWithAnotherConfigurationIsRefusedNamingTheKey() {
        store().save(state(2, 1));
        LmcException e = assertThrows(LmcException.class,
                () -> store().latest("dual", Map.of("lmc.align.seed", "8")));
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertTrue(e.getMessage().contains("lmc.align.seed"), e.getMessage());
    }
}
