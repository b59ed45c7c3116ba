package dev.lmcmerge.dist;

import java.io.Serializable;

/**
 * A contiguous range of transformer blocks {@code [from, to)}: the unit of weight matching
 * tasks and of gradient streaming (an executor recomputes one block at a time with a graph).
 */
public record LayerBlock(int index, int from, int to) implements Serializable {
    /** Number of layers in the block. */
    public int layers() {
        return to - from;
    }

    @Override
    public String toString() {
        return layers() == 1 ? "layer " + from : "layers " + from + ".." + (to - 1);
    }
}
