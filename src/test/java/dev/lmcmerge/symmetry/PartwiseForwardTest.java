package dev.lmcmerge.symmetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.ModelParts;
import dev.lmcmerge.model.PartwiseForward;
import dev.lmcmerge.model.TensorSpec;
import dev.lmcmerge.model.Weights;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * A model whose weights are made one part at a time (embedding, each block, head), here
 * transformed part by part, gives the logits of the whole transformed model, for every family
 * and several batches at once: what streamed evaluation, export and self-checks rely on.
 */
class PartwiseForwardTest {
    private final NDManager manager = NDManager.newBaseManager();

    @AfterEach
    void close() {
        manager.close();
    }

    @ParameterizedTest
    @FieldSource("dev.lmcmerge.symmetry.TinyModels#FAMILIES")
    void transformingPartByPartGivesTheWholeTransformedModelsLogits(String family) {
        Case c = new Case(family, 5, manager);
        List<Double> diffs = new ArrayList<>();
        int[] parts = {0};

        PartwiseForward.run(c.scaled, ModelParts.of(c.arch, c.canonical::has), (names, scope) -> {
            parts[0]++;
            Weights view = new Weights(scope, "view");
            names.forEach(n -> view.put(n, c.canonical.get(n)));
            return TransformEngine.apply(c.spec, c.t, view, names);
        }, c.batches, manager, (b, logits, input) -> diffs.add(
                TinyModels.maxAbsDiff(c.scaled.forward(c.whole, c.batches.get(b)), logits)));

        assertEquals(c.arch.config().numLayers() + 2, parts[0], "each part made once for both batches");
        assertEquals(2, diffs.size());
        for (double d : diffs) {
            assertTrue(d <= 1e-5, family + ": max |logit difference| " + d);
        }
    }

    @ParameterizedTest
    @FieldSource("dev.lmcmerge.symmetry.TinyModels#FAMILIES")
    void transformingOnlyTheTokenRowsTheBatchesUseGivesTheSameLogits(String family) {
        Case c = new Case(family, 8, manager);
        long[] tableRows = {-1};
        PartwiseForward.PartSource source = new PartwiseForward.PartSource() {
            @Override
            public Weights part(List<String> names, NDManager scope) {
                Weights view = new Weights(scope, "view");
                names.forEach(n -> view.put(n, c.canonical.get(n)));
                return TransformEngine.apply(c.spec, c.t, view, names);
            }

            @Override
            public Weights part(List<String> names, dev.lmcmerge.model.TokenRows rows, NDManager scope, String table) {
                Weights view = new Weights(scope, "rows");
                names.forEach(n -> view.put(n, n.equals(table) ? rows.select(c.canonical.get(n)) : c.canonical.get(n)));
                tableRows[0] = view.get(table).getShape().get(0);
                return TransformEngine.apply(c.spec, c.t, view, names);
            }
        };
        List<Double> diffs = new ArrayList<>();

        PartwiseForward.run(c.scaled, ModelParts.of(c.arch, c.canonical::has), source, c.batches, manager,
                (b, logits, input) -> diffs.add(TinyModels.maxAbsDiff(c.scaled.forward(c.whole, c.batches.get(b)), logits)));

        if (c.arch.tokenEmbedding() != null) {
            assertTrue(tableRows[0] > 0 && tableRows[0] <= 32 && tableRows[0] < c.arch.config().vocabSize(),
                    "token rows made: " + tableRows[0]);
        } else {
            assertEquals(-1, tableRows[0], "no token table for " + family);
        }
        for (double d : diffs) {
            assertTrue(d <= 1e-5, family + ": max |logit difference| " + d);
        }
    }

    /** A tiny model of {@code family}, canonical, a random transform of every group, it applied whole, two batches. */
    private static final class Case {
        final Architecture arch;
        final TransformSpec spec;
        final Weights canonical;
        final Transform t;
        final Weights whole;
        final List<NDArray> batches;
        final Architecture scaled;

        Case(String family, long seed, NDManager manager) {
            arch = TinyModels.tinyArchitecture(family);
            spec = TransformSpec.forArchitecture(arch);
            canonical = Canonicalizer.canonicalize(spec, TinyModels.randomWeights(arch, seed, manager));
            t = Transform.random(spec, SlotGroup.all(), seed + 1, manager);
            whole = TransformEngine.apply(spec, t, canonical);
            batches = List.of(TinyModels.input(arch, manager, seed + 2), TinyModels.input(arch, manager, seed + 3));
            scaled = new dev.lmcmerge.align.EpsScaledArchitectures(arch).forFactor(t.epsScale());
        }
    }

    @Test
    void partsHoldEveryTensorOnceInForwardOrder() {
        Architecture arch = TinyModels.tinyArchitecture("llama");
        ModelParts parts = ModelParts.of(arch, n -> true);
        List<String> all = new ArrayList<>();
        for (int i = 0; i < arch.config().numLayers() + 2; i++) {
            for (String n : parts.part(i)) {
                assertEquals(i, parts.partOf(n), n);
                all.add(n);
            }
        }
        assertEquals(arch.tensors().stream().map(TensorSpec::name).sorted().toList(), all.stream().sorted().toList());
        assertTrue(parts.embed().contains("model.embed_tokens.weight"), parts.embed().toString());
        assertTrue(parts.block(0).stream().allMatch(n -> n.startsWith("model.layers.0.")), parts.block(0).toString());
        assertTrue(parts.head().contains("model.norm.weight"), parts.head().toString());
    }
}
