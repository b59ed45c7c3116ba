package dev.lmcmerge.align;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.RandomMatrices_DDRM;
import org.junit.jupiter.api.Test;

class ProcrustesTest {
    private final Random rng = new Random(7);

    static DMatrixRMaj randomOrthogonal(int d, Random rng) {
        return RandomMatrices_DDRM.orthogonal(d, d, rng);
    }

    static DMatrixRMaj randomRotation(int d, Random rng) {
        DMatrixRMaj o = RandomMatrices_DDRM.orthogonal(d, d, rng);
        if (CommonOps_DDRM.det(o) < 0) {
            CommonOps_DDRM.scaleRow(-1, o, 0);
        }
        return o;
    }

    static double maxAbsDiff(DMatrixRMaj a, DMatrixRMaj b) {
        double m = 0;
        for (int i = 0; i < a.getNumElements(); i++) {
            m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
        }
        return m;
    }

    @Test
    void recoversAPlantedRotationFromExactData() {
        int d = 12;
        DMatrixRMaj x = RandomMatrices_DDRM.rectangle(40, d, -1, 1, rng);
        DMatrixRMaj o = randomOrthogonal(d, rng);
        DMatrixRMaj y = new DMatrixRMaj(40, d);
        CommonOps_DDRM.mult(x, o, y);
        DMatrixRMaj m = new DMatrixRMaj(d, d);
        CommonOps_DDRM.multTransA(x, y, m);
        assertTrue(maxAbsDiff(o, Procrustes.orthogonal(m)) < 1e-10);
    }

    @Test
    void theSolutionIsOrthogonalAndNoWorseThanAnyOtherRotation() {
        int d = 8;
        DMatrixRMaj x = RandomMatrices_DDRM.rectangle(30, d, -1, 1, rng);
        DMatrixRMaj y = RandomMatrices_DDRM.rectangle(30, d, -1, 1, rng);
        DMatrixRMaj m = new DMatrixRMaj(d, d);
        CommonOps_DDRM.multTransA(x, y, m);
        DMatrixRMaj o = Procrustes.orthogonal(m);
        DMatrixRMaj oto = new DMatrixRMaj(d, d);
        CommonOps_DDRM.multTransA(o, o, oto);
        assertTrue(maxAbsDiff(oto, CommonOps_DDRM.identity(d)) < 1e-12);
        double best = residual(x, o, y);
        for (int t = 0; t < 200; t++) {
            assertTrue(best <= residual(x, randomOrthogonal(d, rng), y) + 1e-12);
        }
    }

    @Test
    void theRotationSolutionHasDeterminantOneAndRecoversAPlantedRotation() {
        int d = 9;
        DMatrixRMaj x = RandomMatrices_DDRM.rectangle(30, d, -1, 1, rng);
        DMatrixRMaj o = randomRotation(d, rng);
        DMatrixRMaj y = new DMatrixRMaj(30, d);
        CommonOps_DDRM.mult(x, o, y);
        DMatrixRMaj m = new DMatrixRMaj(d, d);
        CommonOps_DDRM.multTransA(x, y, m);
        assertTrue(maxAbsDiff(o, Procrustes.rotation(m)) < 1e-10);
        // With a reflection planted, the best rotation still has det +1 and beats random rotations.
        CommonOps_DDRM.scaleRow(-1, o, 0);
        CommonOps_DDRM.mult(x, o, y);
        CommonOps_DDRM.multTransA(x, y, m);
        DMatrixRMaj r = Procrustes.rotation(m);
        assertEquals(1.0, CommonOps_DDRM.det(r), 1e-10);
        double best = residual(x, r, y);
        for (int t = 0; t < 200; t++) {
            assertTrue(best <= residual(x, randomRotation(d, rng), y) + 1e-12);
        }
    }

    @Test
    void theOnesBasisIsOrthogonalWithFirstColumnOnesOverRootD() {
        int d = 7;
        DMatrixRMaj h = Procrustes.onesBasis(d);
        DMatrixRMaj hth = new DMatrixRMaj(d, d);
        CommonOps_DDRM.multTransA(h, h, hth);
        assertTrue(maxAbsDiff(hth, CommonOps_DDRM.identity(d)) < 1e-14);
        for (int i = 0; i < d; i++) {
            assertEquals(1 / Math.sqrt(d), h.get(i, 0), 1e-14);
        }
    }

    @Test
    void theRestrictedSolutionFixesTheOnesDirectionAndRecoversAPlantedOne() {
        int d = 10;
        DMatrixRMaj h = Procrustes.onesBasis(d);
        DMatrixRMaj planted = Procrustes.embedFixingOnes(randomRotation(d - 1, rng), h);
        DMatrixRMaj x = RandomMatrices_DDRM.rectangle(50, d, -1, 1, rng);
        DMatrixRMaj y = new DMatrixRMaj(50, d);
        CommonOps_DDRM.mult(x, planted, y);
        DMatrixRMaj m = new DMatrixRMaj(d, d);
        CommonOps_DDRM.multTransA(x, y, m);
        DMatrixRMaj o = Procrustes.rotationFixingOnes(m);
        assertTrue(maxAbsDiff(planted, o) < 1e-10);
        DMatrixRMaj ones = new DMatrixRMaj(1, d);
        ones.fill(1.0);
        DMatrixRMaj onesO = new DMatrixRMaj(1, d);
        CommonOps_DDRM.mult(ones, o, onesO);
        assertTrue(maxAbsDiff(ones, onesO) < 1e-12);
    }

    @Test
    void theRestrictedSolutionBeatsRandomRestrictedRotations() {
        int d = 6;
        DMatrixRMaj h = Procrustes.onesBasis(d);
        DMatrixRMaj x = RandomMatrices_DDRM.rectangle(20, d, -1, 1, rng);
        DMatrixRMaj y = RandomMatrices_DDRM.rectangle(20, d, -1, 1, rng);
        DMatrixRMaj m = new DMatrixRMaj(d, d);
        CommonOps_DDRM.multTransA(x, y, m);
        double best = residual(x, Procrustes.rotationFixingOnes(m), y);
        for (int t = 0; t < 200; t++) {
            DMatrixRMaj other = Procrustes.embedFixingOnes(randomRotation(d - 1, rng), h);
            assertTrue(best <= residual(x, other, y) + 1e-12);
        }
    }

    private static double residual(DMatrixRMaj x, DMatrixRMaj o, DMatrixRMaj y) {
        DMatrixRMaj xo = new DMatrixRMaj(x.numRows, o.numCols);
        CommonOps_DDRM.mult(x, o, xo);
        CommonOps_DDRM.subtractEquals(xo, y);
        double s = CommonOps_DDRM.elementSum(CommonOps_DDRM.elementPower(xo, 2, null));
        assertEquals(s, s); // finite
        return s;
    }
}
