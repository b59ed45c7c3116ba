package dev.lmcmerge.align;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.RandomMatrices_DDRM;
import org.junit.jupiter.api.Test;

class SylvesterFitTest {
    private final Random rng = new Random(3);

    @Test
    void recoversAPlantedQueryKeyMapFromBothSides() {
        int hd = 6;
        int d = 20;
        DMatrixRMaj x = RandomMatrices_DDRM.rectangle(hd, hd, -1, 1, rng);
        CommonOps_DDRM.addEquals(x, 3.0, CommonOps_DDRM.identity(hd));
        DMatrixRMaj qa = RandomMatrices_DDRM.rectangle(hd, d, -1, 1, rng);
        DMatrixRMaj ka = RandomMatrices_DDRM.rectangle(hd, d, -1, 1, rng);
        // B = A transformed by x^{-1}: q_B = x^{-1} q_A, k_B = x^T k_A, so the fit must return x.
        DMatrixRMaj xinv = new DMatrixRMaj(hd, hd);
        CommonOps_DDRM.invert(x, xinv);
        DMatrixRMaj qb = new DMatrixRMaj(hd, d);
        CommonOps_DDRM.mult(xinv, qa, qb);
        DMatrixRMaj kb = new DMatrixRMaj(hd, d);
        CommonOps_DDRM.multTransA(x, ka, kb);
        DMatrixRMaj kaT = CommonOps_DDRM.transpose(ka, null);
        DMatrixRMaj kbT = CommonOps_DDRM.transpose(kb, null);
        DMatrixRMaj fit = new SylvesterFit(hd).addDirect(qb, qa).addLeft(kaT, kbT).solve();
        assertTrue(ProcrustesTest.maxAbsDiff(x, fit) < 1e-6);
    }

    @Test
    void theFitIsTheLeastSquaresMinimumOnNoisyData() {
        int hd = 4;
        int d = 15;
        DMatrixRMaj qa = RandomMatrices_DDRM.rectangle(hd, d, -1, 1, rng);
        DMatrixRMaj qb = RandomMatrices_DDRM.rectangle(hd, d, -1, 1, rng);
        DMatrixRMaj la = RandomMatrices_DDRM.rectangle(d, hd, -1, 1, rng);
        DMatrixRMaj rb = RandomMatrices_DDRM.rectangle(d, hd, -1, 1, rng);
        DMatrixRMaj fit = new SylvesterFit(hd).addDirect(qb, qa).addLeft(la, rb).solve();
        double best = objective(fit, qb, qa, la, rb);
        for (int t = 0; t < 100; t++) {
            DMatrixRMaj other = fit.copy();
            CommonOps_DDRM.addEquals(other, RandomMatrices_DDRM.rectangle(hd, hd, -1e-2, 1e-2, rng));
            assertTrue(best <= objective(other, qb, qa, la, rb) + 1e-9);
        }
    }

    private static double objective(DMatrixRMaj x, DMatrixRMaj qb, DMatrixRMaj qa, DMatrixRMaj la, DMatrixRMaj rb) {
        DMatrixRMaj r1 = new DMatrixRMaj(qa.numRows, qa.numCols);
        CommonOps_DDRM.mult(x, qb, r1);
        CommonOps_DDRM.subtractEquals(r1, qa);
        DMatrixRMaj r2 = new DMatrixRMaj(la.numRows, x.numCols);
        CommonOps_DDRM.mult(la, x, r2);
        CommonOps_DDRM.subtractEquals(r2, rb);
        return CommonOps_DDRM.elementSum(CommonOps_DDRM.elementPower(r1, 2, null))
                + CommonOps_DDRM.elementSum(CommonOps_DDRM.elementPower(r2, 2, null));
    }
}
