package dev.lmcmerge.align;

import dev.lmcmerge.symmetry.HeadRole;
import dev.lmcmerge.symmetry.LinearAssignment;

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
        return assign(a.kvHeads, a.groupSize(), (ha, ga, hb, gb) -> headCost(a, ha, ga, b, hb, gb, rotaryDim));
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
