package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Reads a finished run's outputs back for comparison (not a test class): the transforms table,
 * the curves table and the step losses of {@code run.json}, and compares two runs with the
 * tolerance of float rounding.
 */
final class RunOutputs {
    private RunOutputs() {}

    /** method/model/slot -> values of the run's {@code transforms/} table. */
    static Map<String, float[]> transforms(SparkSession spark, String runDir) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Row r : spark.read().parquet(runDir + "/transforms").orderBy("method", "model", "slot").collectAsList()) {
            List<Float> v = r.getList(r.fieldIndex("values"));
            float[] a = new float[v.size()];
            for (int i = 0; i < a.length; i++) {
                a[i] = v.get(i);
            }
            out.put(r.getAs("method") + "/" + r.getAs("model") + "/" + r.getAs("slot"), a);
        }
        return out;
    }

    /** method@alpha -> held-out loss of the run's {@code curves/} table. */
    static Map<String, Double> curves(SparkSession spark, String runDir) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Row r : spark.read().parquet(runDir + "/curves").orderBy("method", "alpha").collectAsList()) {
            out.put(r.getAs("method") + "@" + r.getAs("alpha"), r.getAs("loss"));
        }
        return out;
    }

    /** The per-step losses of {@code method} in the run's {@code run.json}. */
    static double[] stepLosses(String runDir, String method) {
        return toArray(steps(runDir, method).path("loss"));
    }

    /** The step a method resumed from, per {@code run.json} (0: it started from the beginning). */
    static int resumedFrom(String runDir, String method) {
        return steps(runDir, method).path("resumed_from_step").asInt(-1);
    }

    private static JsonNode steps(String runDir, String method) {
        try {
            return new ObjectMapper().readTree(read(new org.apache.hadoop.fs.Path(runDir, "run.json")))
                    .path("steps").path(method);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The bytes of a file on any Hadoop file system. */
    static byte[] read(org.apache.hadoop.fs.Path file) throws IOException {
        try (InputStream in = file.getFileSystem(new Configuration()).open(file)) {
            return in.readAllBytes();
        }
    }

    /**
     * name -> bytes of every file in {@code dir} (any Hadoop file system), hidden ones included,
     * except the {@code .crc} checksums the local file system keeps beside some files.
     */
    static TreeMap<String, byte[]> files(String dir) throws IOException {
        org.apache.hadoop.fs.Path d = new org.apache.hadoop.fs.Path(dir);
        TreeMap<String, byte[]> out = new TreeMap<>();
        for (FileStatus s : d.getFileSystem(new Configuration()).listStatus(d)) {
            if (!s.getPath().getName().endsWith(".crc")) {
                out.put(s.getPath().getName(), read(s.getPath()));
            }
        }
        return out;
    }

    /**
     * The merged checkpoint at {@code actual} ({@code merged/alpha=A}) is complete and the same
     * as at {@code expected}: the same files in {@code hf/} (nothing more, e.g. no leftovers of
     * failed task attempts) with the same bytes, and the same tensor chunks in {@code parquet/}.
     */
    static void assertSameMergedCheckpoint(SparkSession spark, String expected, String actual) throws IOException {
        TreeMap<String, byte[]> e = files(expected + "/hf");
        TreeMap<String, byte[]> a = files(actual + "/hf");
        assertEquals(e.keySet(), a.keySet(), "the same files in hf/");
        for (String name : e.keySet()) {
            assertArrayEquals(e.get(name), a.get(name), "hf/" + name + " is complete and unchanged");
        }
        assertEquals(allFiles(expected + "/parquet"), allFiles(actual + "/parquet"), "the same files in parquet/");
        List<Row> er = spark.read().parquet(expected + "/parquet").orderBy("name", "chunk").collectAsList();
        List<Row> ar = spark.read().parquet(actual + "/parquet").orderBy("name", "chunk").collectAsList();
        assertEquals(er.size(), ar.size(), "the same tensor chunks in parquet/");
        for (int i = 0; i < er.size(); i++) {
            Row x = er.get(i);
            Row y = ar.get(i);
            String what = "parquet/ " + x.getAs("name") + " chunk " + x.getAs("chunk");
            assertEquals((String) x.getAs("name"), y.getAs("name"), what);
            assertEquals(x.getList(x.fieldIndex("shape")), y.getList(y.fieldIndex("shape")), what);
            assertArrayEquals((byte[]) x.getAs("data"), (byte[]) y.getAs("data"), what);
        }
    }

    /** Every file name in {@code dir}, hidden ones included. */
    private static java.util.Set<String> allFiles(String dir) throws IOException {
        return files(dir).keySet();
    }

    private static double[] toArray(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asDouble();
        }
        return out;
    }

    static void assertSameTransforms(Map<String, float[]> expected, Map<String, float[]> actual) {
        assertEquals(expected.keySet(), actual.keySet(), "the same methods, sides and slots");
        for (String k : expected.keySet()) {
            float[] e = expected.get(k);
            float[] a = actual.get(k);
            assertEquals(e.length, a.length, k);
            for (int i = 0; i < e.length; i++) {
                assertEquals(e[i], a[i], 1e-6f * Math.max(1f, Math.abs(e[i])), k + "[" + i + "]");
            }
        }
    }

    static void assertSameCurves(Map<String, Double> expected, Map<String, Double> actual) {
        assertEquals(expected.keySet(), actual.keySet(), "the same methods and alphas");
        expected.forEach((k, e) -> assertEquals(e, actual.get(k), 1e-6 * Math.max(1, Math.abs(e)), k));
    }

    static void assertSameLosses(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length, "one loss per step");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-6 * Math.max(1, Math.abs(expected[i])), "loss of step " + (i + 1));
        }
    }
}
