package dev.lmcmerge.symmetry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Weights;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A transform's parameter arrays: seeded, stored as plain rows and reloaded, checked on the way in. */
class TransformTest {
    private static NDManager manager;
    private static TransformSpec spec;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
        spec = TransformSpec.forArchitecture(TinyModels.tinyArchitecture("llama"));
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    @Test
    void sameSeedGivesTheSameElement() {
        List<TransformEntry> a = Transform.random(spec, SlotGroup.all(), 4, manager).entries();
        List<TransformEntry> b = Transform.random(spec, SlotGroup.all(), 4, manager).entries();
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i).values(), b.get(i).values(), a.get(i).slot());
        }
    }

    @Test
    void onlyTheChosenGroupsHaveParameters() {
        Transform t = Transform.random(spec, EnumSet.of(SlotGroup.HEADS, SlotGroup.FFN), 1, manager);
        Set<String> names = t.parameters().keySet();
        assertEquals(Set.of("heads.0", "heads_in_group.0", "ffn.0", "heads.1", "heads_in_group.1", "ffn.1"), names);
        assertEquals(1.0, t.epsScale());
    }

    @Test
    void entriesReloadToTheSameTransformedWeights() {
        Architecture arch = TinyModels.tinyArchitecture("llama");
        Weights c = Canonicalizer.canonicalize(spec, TinyModels.randomWeights(arch, 3, manager));
        Transform t = Transform.random(spec, SlotGroup.all(), 8, manager);
        List<TransformEntry> rows = t.entries();
        TransformEntry qk = rows.stream().filter(e -> e.slot().equals("qk.1")).findFirst().orElseThrow();
        assertEquals(1, qk.layer());
        assertEquals(SlotKind.QK, qk.kind());
        assertArrayEquals(spec.slot("qk.1").paramShape().getShape(), qk.shape());
        Transform back = Transform.fromEntries(spec, SlotGroup.all(), rows, manager, "rows");
        assertEquals(t.epsScale(), back.epsScale(), 1e-12);
        Weights x = TransformEngine.apply(spec, t, c);
        Weights y = TransformEngine.apply(spec, back, c);
        for (String n : x.names()) {
            assertEquals(0.0, TinyModels.maxAbsDiff(x.get(n), y.get(n)), n);
        }
    }

    @Test
    void reloadRefusesAWrongShapeNamingTheSlot() {
        TransformEntry bad = new TransformEntry("vo.0", 0, SlotKind.VO, new long[] {3, 2, 8, 8}, new float[3 * 2 * 64]);
        LmcException e = assertThrows(LmcException.class,
                () -> Transform.fromEntries(spec, SlotGroup.all(), List.of(bad), manager, "t.parquet"));
        assertEquals(ExitCode.INVALID_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("t.parquet") && e.getMessage().contains("vo.0"), e.getMessage());
    }

    @Test
    void reloadRefusesAnUnknownSlot() {
        TransformEntry bad = new TransformEntry("vo.9", 9, SlotKind.VO, new long[] {1}, new float[1]);
        LmcException e = assertThrows(LmcException.class,
                () -> Transform.fromEntries(spec, SlotGroup.all(), List.of(bad), manager, "t.parquet"));
        assertTrue(e.getMessage().contains("vo.9"), e.getMessage());
    }

    @Test
    void givenParametersOutsideTheChosenGroupsAreRefused() {
        NDArray p = spec.slot("ffn.0").parameterization().identityParams(manager).expandDims(0);
        assertThrows(IllegalArgumentException.class,
                () -> Transform.of(spec, EnumSet.of(SlotGroup.RESIDUAL), Map.of("ffn.0", p), manager));
    }

    @Test
    void slotListParsesAndRefusesUnknownNames() {
        assertEquals(EnumSet.of(SlotGroup.RESIDUAL, SlotGroup.QK), SlotGroup.parse(" residual, QK ", "--slots"));
        LmcException e = assertThrows(LmcException.class, () -> SlotGroup.parse("residual,rope", "--slots"));
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertTrue(e.getMessage().contains("rope") && e.getMessage().contains("residual,heads,qk,vo,ffn,scale"));
    }
}
