package dev.lmcmerge.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A model's tensors split where its forward pass splits ({@link Architecture#embed},
 * {@link Architecture#block}, {@link Architecture#head}): part 0 is the embedding, parts
 * 1..L the blocks, part L+1 the head. Whoever makes weights part by part (streamed evaluation,
 * streamed export, gradient streaming) materializes one part at a time.
 */
public final class ModelParts {
    private final List<List<String>> parts;
    private final Map<String, Integer> partOf = new HashMap<>();

    private ModelParts(List<List<String>> parts) {
        this.parts = parts;
        for (int i = 0; i < parts.size(); i++) {
            for (String n : parts.get(i)) {
                partOf.put(n, i);
            }
        }
    }

    /** The parts of {@code arch}'s tensors that {@code present} accepts (e.g. those a weight map holds). */
    public static ModelParts of(Architecture arch, Predicate<String> present) {
        int layers = arch.config().numLayers();
        List<List<String>> parts = new ArrayList<>();
        for (int i = 0; i < layers + 2; i++) {
            parts.add(new ArrayList<>());
        }
        for (TensorSpec t : arch.tensors()) {
            if (!present.test(t.name())) {
                continue;
            }
            int part = t.layer() >= 0 ? t.layer() + 1 : t.role() == TensorSpec.Role.WRITER ? 0 : layers + 1;
            parts.get(part).add(t.name());
        }
        List<List<String>> frozen = new ArrayList<>();
        for (List<String> p : parts) {
            frozen.add(Collections.unmodifiableList(p));
        }
        return new ModelParts(Collections.unmodifiableList(frozen));
    }

    /** Number of blocks. */
    public int layers() {
        return parts.size() - 2;
    }

    /** The embedding's tensors (residual writers outside any block). */
    public List<String> embed() {
        return parts.get(0);
    }

    /** Block {@code layer}'s tensors. */
    public List<String> block(int layer) {
        return parts.get(layer + 1);
    }

    /** The head's tensors (final norm, unembedding or classifier). */
    public List<String> head() {
        return parts.get(parts.size() - 1);
    }

    /** The tensors of part {@code index} (0: embedding, 1..L: blocks, L+1: head). */
    public List<String> part(int index) {
        return parts.get(index);
    }

    /** The part holding tensor {@code name}. */
    public int partOf(String name) {
        Integer p = partOf.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no part holds tensor '" + name + "'");
        }
        return p;
    }
}
