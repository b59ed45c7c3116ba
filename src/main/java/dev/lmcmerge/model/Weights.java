package dev.lmcmerge.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.lmcmerge.config.LmcException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A model's tensors by their Hugging Face names (float32 NDArrays), in one {@link NDManager}.
 * The same type carries original, canonical, transformed and interpolated weights; transforms
 * produce new {@code Weights} rather than mutating, so autograd graphs stay intact.
 */
public final class Weights implements AutoCloseable {
    private final NDManager manager;
    private final String source;
    private final Map<String, NDArray> tensors = new LinkedHashMap<>();

    /** @param source where the weights came from (a folder, or a description), used in error messages */
    public Weights(NDManager manager, String source) {
        this.manager = manager;
        this.source = source;
    }

    public NDManager manager() {
        return manager;
    }

    public String source() {
        return source;
    }

    /** The tensor named {@code name}; a missing tensor is invalid input naming the source and the key. */
    public NDArray get(String name) {
        NDArray a = tensors.get(name);
        if (a == null) {
            throw LmcException.invalidInput(source, "missing tensor '" + name + "'");
        }
        return a;
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    public Weights put(String name, NDArray value) {
        tensors.put(name, value);
        return this;
    }

    public NDArray remove(String name) {
        return tensors.remove(name);
    }

    /** Names in insertion order. */
    public Set<String> names() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    public Map<String, NDArray> asMap() {
        return Collections.unmodifiableMap(tensors);
    }

    /** Closes the manager and with it every tensor it owns. */
    @Override
    public void close() {
        manager.close();
    }
}
