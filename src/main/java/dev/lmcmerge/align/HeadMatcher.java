package dev.lmcmerge.align;

import dev.lmcmerge.symmetry.HeadRole;
import dev.lmcmerge.symmetry.LinearAssignment;
import org.ejml.data.DMatrixRMaj;

/**
 * Head matching of one layer: the permutation of KV groups and, under GQA, of query heads within
 * each group, minimizing the sum over matched heads of ||QK_A - QK_B|| + ||OV_A - OV_B|| (circuit
 * distances, {@link HeadCircuits}). Without GQA groups are heads and one assignment suffices;
 * with GQA an inner assignment over the query heads of each (A group, B group) pair gives the
 * pair's cost and an outer assignment over groups picks the pairs.
 *
 * <p>Result convention (that of {@code symmetry.Permutation}): {@code groups[a] = b} puts B's
 * group b at position a; {@code withinGroup[a][i] = j} puts query head j of that group at
 * position i inside it.
 */
final class HeadMatcher {
    private HeadMatcher() {
    }

    record Result(int[] groups, int[][] withinGroup, double cost) {
    }

    static Result match(HeadBlocks a, HeadBlocks b, int rotaryDim) {
        CircuitCosts costs = new CircuitCosts(a, b, rotaryDim);
        return assign(a.kvHeads, a.groupSize(), costs::cost);
    }

    /**
     * {@link #headCost} for every pair of heads, from the pairwise block products computed once
     * per layer ({@link HeadPairProducts}) instead of per pair: the same sums, in another order.
     */
    static final class CircuitCosts {
        private final HeadBlocks a;
        private final HeadBlocks b;
        private final int rotaryDim;
        private final boolean qk;
        private final boolean ov;
        private HeadPairProducts qAb;
        private HeadPairProducts kBa;
        private HeadPairProducts qAa;
        private HeadPairProducts kAa;
        private HeadPairProducts qBb;
        private HeadPairProducts kBb;
        private HeadPairProducts oAb;
        private HeadPairProducts vBa;
        private HeadPairProducts oAa;
        private HeadPairProducts vAa;
        private HeadPairProducts oBb;
        private HeadPairProducts vBb;

        CircuitCosts(HeadBlocks a, HeadBlocks b, int rotaryDim) {
            this.a = a;
            this.b = b;
            this.rotaryDim = rotaryDim;
            this.qk = a.has(HeadRole.Q) && a.has(HeadRole.K);
            this.ov = a.has(HeadRole.O) && a.has(HeadRole.V);
            int hd = a.headDim;
            if (qk && rotaryDim < hd) {
                DMatrixRMaj[] qa = blocks(a, HeadRole.Q, a.heads);
                DMatrixRMaj[] qb = blocks(b, HeadRole.Q, a.heads);
                DMatrixRMaj[] ka = blocks(a, HeadRole.K, a.kvHeads);
                DMatrixRMaj[] kb = blocks(b, HeadRole.K, a.kvHeads);
                qAb = HeadPairProducts.of(qa, qb, rotaryDim, hd);
                kBa = HeadPairProducts.of(kb, ka, rotaryDim, hd);
                qAa = HeadPairProducts.of(qa, qa, rotaryDim, hd);
                kAa = HeadPairProducts.of(ka, ka, rotaryDim, hd);
                qBb = HeadPairProducts.of(qb, qb, rotaryDim, hd);
                kBb = HeadPairProducts.of(kb, kb, rotaryDim, hd);
            }
            if (ov) {
                DMatrixRMaj[] oa = blocks(a, HeadRole.O, a.heads);
                DMatrixRMaj[] ob = blocks(b, HeadRole.O, a.heads);
                DMatrixRMaj[] va = blocks(a, HeadRole.V, a.kvHeads);
                DMatrixRMaj[] vb = blocks(b, HeadRole.V, a.kvHeads);
                oAb = HeadPairProducts.of(oa, ob, 0, hd);
                vBa = HeadPairProducts.of(vb, va, 0, hd);
                oAa = HeadPairProducts.of(oa, oa, 0, hd);
                vAa = HeadPairProducts.of(va, va, 0, hd);
                oBb = HeadPairProducts.of(ob, ob, 0, hd);
                vBb = HeadPairProducts.of(vb, vb, 0, hd);
            }
        }

        private static DMatrixRMaj[] blocks(HeadBlocks h, HeadRole role, int n) {
            DMatrixRMaj[] out = new DMatrixRMaj[n];
            for (int i = 0; i < n; i++) {
                out[i] = h.block(role, i);
            }
            return out;
        }

        double cost(int ha, int ga, int hb, int gb) {
            double cost = 0;
            if (qk) {
                DMatrixRMaj qa = a.block(HeadRole.Q, ha);
                DMatrixRMaj ka = a.block(HeadRole.K, ga);
                DMatrixRMaj qb = b.block(HeadRole.Q, hb);
                DMatrixRMaj kb = b.block(HeadRole.K, gb);
                double aa = HeadCircuits.rotaryInner(qa, ka, qa, ka, rotaryDim);
                double bb = HeadCircuits.rotaryInner(qb, kb, qb, kb, rotaryDim);
                double ab = HeadCircuits.rotaryInner(qa, ka, qb, kb, rotaryDim);
                if (qAb != null) {
                    aa += HeadPairProducts.trace(qAa, ha, ha, kAa, ga, ga);
                    bb += HeadPairProducts.trace(qBb, hb, hb, kBb, gb, gb);
                    ab += HeadPairProducts.trace(qAb, ha, hb, kBa, gb, ga);
                }
                cost += Math.sqrt(Math.max(0, aa + bb - 2 * ab));
            }
            if (ov) {
                double aa = HeadPairProducts.trace(oAa, ha, ha, vAa, ga, ga);
                double bb = HeadPairProducts.trace(oBb, hb, hb, vBb, gb, gb);
                double ab = HeadPairProducts.trace(oAb, ha, hb, vBa, gb, ga);
                cost += Math.sqrt(Math.max(0, aa + bb - 2 * ab));
            }
            return cost;
        }
    }

    /** Cost of putting B's query head {@code hb} (group {@code gb}) against A's {@code ha} (group {@code ga}). */
    @FunctionalInterface
    interface HeadCost {
        double cost(int ha, int ga, int hb, int gb);
    }

    /** Group and within-group assignment for any head cost (circuits, or activations). */
    static Result assign(int kv, int g, HeadCost cost) {
        double[][] groupCost = new double[kv][kv];
        int[][][] inner = new int[kv][kv][];
        for (int ga = 0; ga < kv; ga++) {
            for (int gb = 0; gb < kv; gb++) {
                double[][] c = new double[g][g];
                for (int i = 0; i < g; i++) {
                    for (int j = 0; j < g; j++) {
                        c[i][j] = cost.cost(ga * g + i, ga, gb * g + j, gb);
                    }
                }
                int[] p = g == 1 ? new int[] {0} : LinearAssignment.minimize(c);
                inner[ga][gb] = p;
                groupCost[ga][gb] = LinearAssignment.total(c, p);
            }
        }
        int[] groups = LinearAssignment.minimize(groupCost);
        int[][] within = new int[kv][];
        for (int ga = 0; ga < kv; ga++) {
            within[ga] = inner[ga][groups[ga]];
        }
        return new Result(groups, within, LinearAssignment.total(groupCost, groups));
    }

    /** Circuit distance between query head {@code ha} (group {@code ga}) of A and {@code hb} (group {@code gb}) of B. */
    static double headCost(HeadBlocks a, int ha, int ga, HeadBlocks b, int hb, int gb, int rotaryDim) {
        double cost = 0;
        if (a.has(HeadRole.Q) && a.has(HeadRole.K)) {
            cost += Math.sqrt(HeadCircuits.qkDistance2(a.block(HeadRole.Q, ha), a.block(HeadRole.K, ga),
                    b.block(HeadRole.Q, hb), b.block(HeadRole.K, gb), rotaryDim));
        }
        if (a.has(HeadRole.O) && a.has(HeadRole.V)) {
            cost += Math.sqrt(HeadCircuits.ovDistance2(a.block(HeadRole.O, ha), a.block(HeadRole.V, ga),
                    b.block(HeadRole.O, hb), b.block(HeadRole.V, gb)));
        }
        return cost;
    }

}
