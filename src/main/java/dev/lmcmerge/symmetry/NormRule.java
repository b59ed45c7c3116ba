package dev.lmcmerge.symmetry;

import java.util.List;

/**
 * A norm and the tensors reading its output, for the canonical form: the norm's weight is folded
 * into every reader's input axis and its bias into the readers' biases (or, where a reader has no
 * bias, kept in the norm's bias slot as beta/gamma).
 *
 * @param bias    the norm's bias tensor, or null (RMSNorm)
 * @param readers the reading weights with their bias tensor names (null where the reader has none)
 */
public record NormRule(String weight, String bias, List<Reader> readers) {
    public NormRule {
        readers = List.copyOf(readers);
    }

    /** A reader weight and its bias (null if the stock architecture has none). */
    public record Reader(String weight, String bias) {
    }
}
