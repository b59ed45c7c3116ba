package dev.lmcmerge.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.HfCheckpointWriter;
import dev.lmcmerge.io.TensorSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;

/**
 * Deterministic test weights: every value is a pure function of the tensor's name, identical
 * bit for bit to {@code fixture_value} in {@code src/test/resources/model/make_fixtures.py}, so
 * the Hugging Face fixtures need no stored weights. Norm gains are 1 + 0.2u, biases 0.1u,
 * matrices 0.4u with u uniform in [-1, 1) (splitmix64 seeded by FNV-1a of the name).
 */
final class FixtureWeights {
    private FixtureWeights() {
    }

    static long fnv1a64(String name) {
        long h = 0xCBF29CE484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001B3L;
        }
        return h;
    }

    /** n values in [-1, 1). */
    static double[] uniform(String name, int n) {
        long seed = fnv1a64(name);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
            out[i] = 2.0 * ((z >>> 11) * 0x1.0p-53) - 1.0;
        }
        return out;
    }

    static float[] values(String name, long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        double[] u = uniform(name, (int) n);
        boolean norm = name.contains("norm") || name.contains(".ln_");
        float[] v = new float[u.length];
        for (int i = 0; i < u.length; i++) {
            double x;
            if (norm) {
                x = name.endsWith("weight") ? 1.0 + 0.2 * u[i] : 0.1 * u[i];
            } else if (shape.length == 1) {
                x = 0.1 * u[i];
            } else {
                x = 0.4 * u[i];
            }
            v[i] = (float) x;
        }
        return v;
    }

    /** Fixture weights for every tensor of {@code arch}, tied ones sharing the embedding. */
    static Weights weights(Architecture arch, NDManager m) {
        Weights w = new Weights(m, "fixture weights");
        for (TensorSpec t : arch.tensors()) {
            if (!t.tied()) {
                w.put(t.name(), m.create(values(t.name(), t.shape()), new Shape(t.shape())));
            }
        }
        for (TensorSpec t : arch.tensors()) {
            if (t.tied()) {
                w.put(t.name(), w.get(t.tiedTo()));
            }
        }
        return w;
    }

    /** Writes a Hugging Face folder (config.json + model.safetensors, tied tensors omitted) with fixture weights. */
    static void writeCheckpoint(Path folder, JsonNode config, Architecture arch, DType dtype) {
        List<TensorSource> sources = new ArrayList<>();
        for (TensorSpec t : arch.tensors()) {
            if (!t.tied()) {
                sources.add(TensorSource.ofFloats(t.name(), t.shape(), values(t.name(), t.shape()), dtype));
            }
        }
        HfCheckpointWriter.to(folder.toString(), new Configuration()).overwrite(true).write(config, sources);
    }
}
