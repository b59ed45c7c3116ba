package dev.lmcmerge.symmetry;

import static dev.lmcmerge.symmetry.ParameterizationChecks.assertClose;
import static dev.lmcmerge.symmetry.ParameterizationChecks.assertGradientMatchesFiniteDifferences;
import static dev.lmcmerge.symmetry.ParameterizationChecks.autogradOfLinearFunctional;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The batched forms of the parameterizations ({@link Parameterization#materializeBatch} and
 * siblings) give, for every row of a parameter batch, the element the per-element form gives,
 * with the same gradients; and the batched matrix exponential treats each matrix on its own.
 */
class BatchedMaterializationTest {

    /** The three variants, as (parameterization, params) -> per-element and batched results. */
    enum Variant {
        ELEMENT(Parameterization::materialize, Parameterization::materializeBatch),
        INVERSE(Parameterization::materializeInverse, Parameterization::materializeInverseBatch),
        INVERSE_TRANSPOSE(Parameterization::materializeInverseTranspose, Parameterization::materializeInverseTransposeBatch);

        final BiFunction<Parameterization, NDArray, NDArray> one;
        final BiFunction<Parameterization, NDArray, NDArray> batch;

        Variant(BiFunction<Parameterization, NDArray, NDArray> one, BiFunction<Parameterization, NDArray, NDArray> batch) {
            this.one = one;
            this.batch = batch;
        }
    }

    static Stream<Arguments> parameterizations() {
        List<Parameterization> ps = List.of(new PolarInvertible(5), new RopeCommutingMap(8, 4), new RopeCommutingMap(8, 8),
                new RopeCommutingMap(6, 0), new PositiveScale(4), new CayleyOrthogonal(4, true), new Permutation(4));
        return ps.stream().flatMap(p -> Stream.of(Variant.values()).map(v -> Arguments.of(p, v)));
    }

    /** G random float64 parameter rows of {@code p}, with a spread of norms (so expm squarings differ). */
    static NDArray batch64(Parameterization p, NDManager m, int g, long seed) {
        Random rng = new Random(seed);
        NDList rows = new NDList();
        for (int i = 0; i < g; i++) {
            NDArray r = p.randomParams(m, rng).toType(DataType.FLOAT64, false);
            rows.add(p instanceof Permutation ? r : r.mul(0.3 + 1.2 * i)); // scaled latents would tie
        }
        return NDArrays.stack(rows);
    }

    static NDArray perElement(Parameterization p, Variant v, NDArray params) {
        NDList out = new NDList();
        for (long i = 0; i < params.getShape().get(0); i++) {
            out.add(v.one.apply(p, params.get(i)));
        }
        return NDArrays.stack(out);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("parameterizations")
    void everyRowOfTheBatchIsThePerElementResult(Parameterization p, Variant v) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray params = batch64(p, m, 4, 1);
            NDArray batched = v.batch.apply(p, params);
            NDArray expected = perElement(p, v, params);
            assertEquals(expected.getShape(), batched.getShape());
            assertClose(batched, expected, 1e-12, p + " " + v);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("parameterizations")
    void batchedGradientsAreThePerElementGradients(Parameterization p, Variant v) {
        if (p instanceof Permutation) {
            return; // its straight-through gradient is covered by PermutationTest; the batch is a per-row loop
        }
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray params = batch64(p, m, 3, 2);
            double[] batched = autogradOfLinearFunctional(params, x -> v.batch.apply(p, x), 3);
            double[] perRow = autogradOfLinearFunctional(params, x -> perElement(p, v, x), 3);
            double diff = 0;
            double ref = 0;
            for (int i = 0; i < perRow.length; i++) {
                diff += (batched[i] - perRow[i]) * (batched[i] - perRow[i]);
                ref += perRow[i] * perRow[i];
            }
            assertTrue(ref > 0, "the gradient is zero: the check would be vacuous");
            assertTrue(Math.sqrt(diff / ref) < 1e-10, p + " " + v + ": relative difference " + Math.sqrt(diff / ref));
        }
    }

    static Stream<Parameterization> headMaps() {
        return Stream.of(new PolarInvertible(5), new RopeCommutingMap(8, 4), new RopeCommutingMap(8, 8),
                new RopeCommutingMap(6, 0), new PositiveScale(4));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("headMaps")
    void theElementWithItsInverseTransposeIsBothBatchedForms(Parameterization p) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray params = batch64(p, m, 3, 10);
            NDArray[] both = p.materializeWithInverseTransposeBatch(params);
            assertClose(both[0], perElement(p, Variant.ELEMENT, params), 1e-12, p + " element");
            assertClose(both[1], perElement(p, Variant.INVERSE_TRANSPOSE, params), 1e-12, p + " inverse transpose");
        }
    }

    @Test
    void theElementWithItsInverseTransposeHasExactGradients() {
        try (NDManager m = NDManager.newBaseManager()) {
            RopeCommutingMap rope = new RopeCommutingMap(5, 2);
            NDArray params = batch64(rope, m, 2, 11);
            assertGradientMatchesFiniteDifferences(params, x -> {
                NDArray[] both = rope.materializeWithInverseTransposeBatch(x);
                return both[0].concat(both[1], 0);
            }, 12);
        }
    }

    @Test
    void batchedGradientsMatchFiniteDifferences() {
        try (NDManager m = NDManager.newBaseManager()) {
            RopeCommutingMap rope = new RopeCommutingMap(4, 2);
            NDArray rp = batch64(rope, m, 2, 4);
            assertGradientMatchesFiniteDifferences(rp, rope::materializeBatch, 5);
            assertGradientMatchesFiniteDifferences(rp, rope::materializeInverseTransposeBatch, 6);
            PolarInvertible polar = new PolarInvertible(3);
            NDArray pp = batch64(polar, m, 2, 7);
            assertGradientMatchesFiniteDifferences(pp, polar::materializeBatch, 8);
            assertGradientMatchesFiniteDifferences(pp, polar::materializeInverseBatch, 9);
        }
    }

    @Test
    void eachMatrixOfAnExpmBatchGetsItsOwnSquarings() {
        try (NDManager m = NDManager.newBaseManager()) {
            // norms about 0.1, 3 and 40: zero, zero and several squarings
            NDArray small = m.create(RandomParams.gaussian(new Random(11), 16, 0.03), new Shape(4, 4));
            NDArray mid = m.create(RandomParams.gaussian(new Random(12), 16, 0.8), new Shape(4, 4));
            NDArray large = m.create(RandomParams.gaussian(new Random(13), 16, 10), new Shape(4, 4));
            NDArray batched = MatrixFunctions.expmBatch(NDArrays.stack(new NDList(small, mid, large)));
            // the single-matrix results (to the rounding of batched vs single products): had the
            // batch shared the large matrix's squarings, the small one would differ by far more
            assertClose(batched.get(0), MatrixFunctions.expm(small), 1e-15, "small");
            assertClose(batched.get(1), MatrixFunctions.expm(mid), 1e-14, "mid");
            assertClose(batched.get(2).div(MatrixFunctions.expm(large).abs().max()), MatrixFunctions.expm(large)
                    .div(MatrixFunctions.expm(large).abs().max()), 1e-14, "large (relative)");
        }
    }

    @Test
    void expmBatchGradientMatchesFiniteDifferencesAcrossDifferentSquarings() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(RandomParams.gaussian(new Random(14), 9, 0.1), new Shape(3, 3));
            NDArray b = m.create(RandomParams.gaussian(new Random(15), 9, 4), new Shape(3, 3));
            UnaryOperator<NDArray> f = MatrixFunctions::expmBatch;
            assertGradientMatchesFiniteDifferences(NDArrays.stack(new NDList(a, b)), f, 16);
        }
    }

    @Test
    void aFloat32BatchIsComputedInFloat64LikeASingleMatrix() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(RandomParams.gaussian(new Random(17), 2 * 64 * 64, 0.3), new Shape(2, 64, 64))
                    .toType(DataType.FLOAT32, false);
            NDArray batched = MatrixFunctions.expmBatch(a);
            assertEquals(DataType.FLOAT32, batched.getDataType());
            assertClose(batched.get(1), MatrixFunctions.expm(a.get(1)), 1e-6, "float32 row 1");
        }
    }

    @Test
    void batchesOfTheWrongShapeAreRejected() {
        try (NDManager m = NDManager.newBaseManager()) {
            assertThrows(IllegalArgumentException.class, () -> MatrixFunctions.expmBatch(m.zeros(new Shape(3, 3))));
            assertThrows(IllegalArgumentException.class, () -> new PolarInvertible(3).materializeBatch(m.zeros(new Shape(2, 2, 4, 4))));
            assertThrows(IllegalArgumentException.class, () -> new RopeCommutingMap(8, 4).materializeBatch(m.zeros(new Shape(2, 7))));
            assertThrows(IllegalArgumentException.class, () -> new PositiveScale(4).materializeBatch(m.zeros(new Shape(4))));
        }
    }
}
