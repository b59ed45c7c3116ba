package dev.lmcmerge.align;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import dev.lmcmerge.model.Architecture;
import dev.lmcmerge.model.Weights;
import dev.lmcmerge.symmetry.Canonicalizer;
import dev.lmcmerge.symmetry.TransformSpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The per-layer circuit costs computed from pairwise block products (one GEMM per role pair)
 * equal the per-pair circuit distances of {@link HeadCircuits}, for partial RoPE (gpt_neox) and
 * full RoPE with GQA (llama).
 */
class HeadMatcherTest {
    @ParameterizedTest
    @ValueSource(strings = {"gpt_neox", "llama"})
    void batchedCircuitCostsEqualThePairByPairDistances(String family) {
        try (NDManager m = NDManager.newBaseManager()) {
            Architecture arch = AlignModels.tiny(family, 2);
            TransformSpec spec = TransformSpec.forArchitecture(arch);
            Weights a = Canonicalizer.canonicalize(spec, AlignModels.random(arch, 3, m));
            Weights b = Canonicalizer.canonicalize(spec, AlignModels.random(arch, 4, m));
            int rotary = spec.dims().rotaryDim();
            for (int layer = 0; layer < 2; layer++) {
                HeadBlocks ha = HeadBlocks.of(spec, a, layer);
                HeadBlocks hb = HeadBlocks.of(spec, b, layer);
                HeadMatcher.CircuitCosts costs = new HeadMatcher.CircuitCosts(ha, hb, rotary);
                int g = ha.groupSize();
                for (int i = 0; i < ha.heads; i++) {
                    for (int j = 0; j < ha.heads; j++) {
                        double expected = HeadMatcher.headCost(ha, i, i / g, hb, j, j / g, rotary);
                        assertEquals(expected, costs.cost(i, i / g, j, j / g), 1e-9 * Math.max(1, expected),
                                family + " layer " + layer + " heads " + i + ", " + j);
                    }
                }
            }
        }
    }
}
