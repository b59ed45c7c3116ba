package dev.lmcmerge.symmetry;

import static dev.lmcmerge.symmetry.ParameterizationChecks.assertClose;
import static dev.lmcmerge.symmetry.ParameterizationChecks.assertGradientMatchesFiniteDifferences;
import static dev.lmcmerge.symmetry.ParameterizationChecks.assertIdentity;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MatrixFunctionsTest {

    private static NDArray gaussian64(NDManager m, int n, double std, long seed) {
        return m.create(RandomParams.gaussian(new Random(seed), n * n, std), new Shape(n, n));
    }

    /** Independent reference: Taylor series (40 terms) after scaling to norm below 1/4, then squaring, in double. */
    private static double[][] taylorExpm(double[] a, int n) {
        double norm = 0;
        for (int j = 0; j < n; j++) {
            double col = 0;
            for (int i = 0; i < n; i++) {
                col += Math.abs(a[i * n + j]);
            }
            norm = Math.max(norm, col);
        }
        int s = Math.max(0, (int) Math.ceil(Math.log(norm / 0.25) / Math.log(2)));
        double scale = Math.pow(2, -s);
        double[][] x = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                x[i][j] = a[i * n + j] * scale;
            }
        }
        double[][] sum = identity(n);
        double[][] term = identity(n);
        for (int k = 1; k <= 40; k++) {
            term = times(term, x);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    term[i][j] /= k;
                    sum[i][j] += term[i][j];
                }
            }
        }
        for (int k = 0; k < s; k++) {
            sum = times(sum, sum);
        }
        return sum;
    }

    private static double[][] identity(int n) {
        double[][] e = new double[n][n];
        for (int i = 0; i < n; i++) {
            e[i][i] = 1;
        }
        return e;
    }

    private static double[][] times(double[][] a, double[][] b) {
        int n = a.length;
        double[][] c = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                for (int j = 0; j < n; j++) {
                    c[i][j] += a[i][k] * b[k][j];
                }
            }
        }
        return c;
    }

    @Test
    void expmOfARotationGeneratorIsTheRotationByThatAngle() {
        try (NDManager m = NDManager.newBaseManager()) {
            for (double t : new double[] {0.3, 2.0, -7.5, 40.0}) {
                NDArray gen = m.create(new double[] {0, -t, t, 0}, new Shape(2, 2));
                NDArray expected = m.create(new double[] {Math.cos(t), -Math.sin(t), Math.sin(t), Math.cos(t)}, new Shape(2, 2));
                assertClose(MatrixFunctions.expm(gen), expected, 1e-12, "expm([[0,-t],[t,0]]), t = " + t);
            }
        }
    }

    @Test
    void expmOfADiagonalMatrixExponentiatesTheDiagonal() {
        try (NDManager m = NDManager.newBaseManager()) {
            double[] d = {-3.0, -0.5, 0.0, 1.25, 4.0};
            NDArray expected = MatrixFunctions.diag(m.create(d).exp());
            NDArray got = MatrixFunctions.expm(MatrixFunctions.diag(m.create(d)));
            // relative to e^4 ~ 55
            assertClose(got, expected, 1e-12 * 55, "expm(diag(d))");
        }
    }

    @Test
    void expmMatchesATaylorSeriesReferenceWithAndWithoutSquaring() {
        try (NDManager m = NDManager.newBaseManager()) {
            int n = 6;
            for (double std : new double[] {0.1, 1.5}) { // 1-norm about 0.5 (no squaring) and about 8 (squarings)
                NDArray a = gaussian64(m, n, std, 11);
                double[][] ref = taylorExpm(a.toDoubleArray(), n);
                double[] flat = new double[n * n];
                double scale = 0;
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        flat[i * n + j] = ref[i][j];
                        scale = Math.max(scale, Math.abs(ref[i][j]));
                    }
                }
                assertClose(MatrixFunctions.expm(a), m.create(flat, new Shape(n, n)), 1e-11 * scale, "expm vs Taylor, std " + std);
            }
        }
    }

    @Test
    void expmOfMinusAIsTheInverseOfExpmOfA() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = gaussian64(m, 8, 1.0, 3).toType(DataType.FLOAT32, false);
            NDArray product = MatrixFunctions.expm(a).matMul(MatrixFunctions.expm(a.neg()));
            assertIdentity(product, 1e-4, "expm(A) expm(-A), float32, ||A||_1 about 6");
            NDArray a64 = gaussian64(m, 8, 1.0, 3);
            assertIdentity(MatrixFunctions.expm(a64).matMul(MatrixFunctions.expm(a64.neg())), 1e-12, "expm(A) expm(-A), float64");
        }
    }

    @Test
    void expmKeepsTheArgumentsDataType() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = gaussian64(m, 4, 1.0, 5);
            assertEquals(DataType.FLOAT64, MatrixFunctions.expm(a).getDataType());
            assertEquals(DataType.FLOAT32, MatrixFunctions.expm(a.toType(DataType.FLOAT32, false)).getDataType());
        }
    }

    @Test
    void cayleyOfASkewMatrixIsOrthogonal() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray o = MatrixFunctions.cayley(MatrixFunctions.skew(gaussian64(m, 7, 1.0, 8)));
            assertIdentity(o.transpose().matMul(o), 1e-12, "cayley(skew)^T cayley(skew)");
        }
    }

    @Test
    void inverseCayleyRecoversTheSkewGenerator() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = MatrixFunctions.skew(gaussian64(m, 5, 0.4, 9));
            assertClose(MatrixFunctions.inverseCayley(MatrixFunctions.cayley(a)), a, 1e-12, "inverseCayley(cayley(A))");
        }
    }

    @Test
    void embeddingFixingOnesMapsTheAllOnesVectorToItselfBothWays() {
        try (NDManager m = NDManager.newBaseManager()) {
            int n = 9;
            NDArray inner = MatrixFunctions.expm(MatrixFunctions.skew(gaussian64(m, n - 1, 0.5, 12)));
            NDArray o = MatrixFunctions.embedFixingOnes(inner);
            NDArray ones = m.ones(new Shape(n, 1), DataType.FLOAT64);
            assertClose(o.matMul(ones), ones, 1e-12, "O 1");
            assertClose(o.transpose().matMul(ones), ones, 1e-12, "O^T 1");
            assertIdentity(o.transpose().matMul(o), 1e-12, "O^T O");
            assertClose(MatrixFunctions.innerOfFixingOnes(o), inner, 1e-12, "inner block recovered");
        }
    }

    @Test
    void expmGradientMatchesFiniteDifferencesAcrossSquarings() {
        try (NDManager m = NDManager.newBaseManager()) {
            assertGradientMatchesFiniteDifferences(gaussian64(m, 4, 2.0, 21), MatrixFunctions::expm, 1);
            assertGradientMatchesFiniteDifferences(gaussian64(m, 4, 0.2, 22), MatrixFunctions::expm, 2);
        }
    }

    @Test
    void cayleyGradientMatchesFiniteDifferences() {
        try (NDManager m = NDManager.newBaseManager()) {
            assertGradientMatchesFiniteDifferences(gaussian64(m, 4, 0.7, 23),
                    s -> MatrixFunctions.cayley(MatrixFunctions.skew(s)), 3);
        }
    }

    @Test
    void embeddingFixingOnesGradientMatchesFiniteDifferences() {
        try (NDManager m = NDManager.newBaseManager()) {
            assertGradientMatchesFiniteDifferences(gaussian64(m, 4, 0.7, 24), MatrixFunctions::embedFixingOnes, 4);
        }
    }

    @Test
    void aFloat32ArgumentGetsTheSameGradientThroughTheFloat64Promotion() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a64 = gaussian64(m, 5, 1.5, 25);
            double[] g64 = ParameterizationChecks.autogradOfLinearFunctional(a64, MatrixFunctions::expm, 5);
            double[] g32 = ParameterizationChecks.autogradOfLinearFunctional(a64.toType(DataType.FLOAT32, false), MatrixFunctions::expm, 5);
            double diff = 0;
            double ref = 0;
            for (int i = 0; i < g64.length; i++) {
                diff += (g32[i] - g64[i]) * (g32[i] - g64[i]);
                ref += g64[i] * g64[i];
            }
            assertTrue(ref > 0 && Math.sqrt(diff / ref) < 1e-5, "float32 vs float64 gradient, relative " + Math.sqrt(diff / ref));
        }
    }
}
