package dev.lmcmerge.config;

/**
 * {@code lmc.eval}: the barrier evaluation grid.
 *
 * @param alphas points of the alpha grid, evenly spaced on [0, 1], both ends included
 * @param maxBatches batches per (method, alpha) point; 0: the whole held-out split
 */
public record EvalConfig(int alphas, int maxBatches) {

    /** The alpha grid: {@code alphas} evenly spaced values from 0 to 1. */
    public double[] alphaGrid() {
        double[] grid = new double[alphas];
        for (int i = 0; i < alphas; i++) {
            grid[i] = (double) i / (alphas - 1);
        }
        return grid;
    }

    static EvalConfig read(ConfigReader r) {
        return new EvalConfig(
                r.intIn("lmc.eval.alphas", 2, 1001),
                r.intIn("lmc.eval.max-batches", 0, 100_000_000));
    }
}
