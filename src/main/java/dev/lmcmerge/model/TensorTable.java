package dev.lmcmerge.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Builds the ordered {@link TensorSpec} list of one configured model. */
final class TensorTable {
    private final List<TensorSpec> specs = new ArrayList<>();

    TensorTable add(String name, TensorSpec.Role role, int layer, long... shape) {
        specs.add(new TensorSpec(name, shape, layer, role));
        return this;
    }

    /** Adds {@code name} only if {@code present} (optional biases). */
    TensorTable addIf(boolean present, String name, TensorSpec.Role role, int layer, long... shape) {
        return present ? add(name, role, layer, shape) : this;
    }

    TensorTable addTied(String name, String tiedTo, TensorSpec.Role role, long... shape) {
        specs.add(new TensorSpec(name, shape, -1, role, tiedTo));
        return this;
    }

    /**
     * The output projection [vocab, d] of a language model: tied to the input embedding when the
     * config says so (the tensor is then not stored), else a reader of its own.
     */
    TensorTable addUnembedding(String name, String embedding, boolean tied, long vocab, long d) {
        return tied ? addTied(name, embedding, TensorSpec.Role.READER, vocab, d)
                : add(name, TensorSpec.Role.READER, -1, vocab, d);
    }

    List<TensorSpec> build() {
        return Collections.unmodifiableList(new ArrayList<>(specs));
    }
}
