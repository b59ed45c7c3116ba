package dev.lmcmerge.config;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Versions of this program and of the libraries that decide its numbers, for {@code --version}
 * and run.json. Library versions are read from the property files their jars carry, so they are
 * the ones actually on the classpath (on a cluster: the cluster's Spark).
 */
public final class BuildInfo {
    /**
     * The project version; a test keeps it equal to pom.xml's. A constant because the local
     * launcher runs from target/classes, where Maven's pom.properties does not exist.
     */
    public static final String VERSION = "0.1.0-SNAPSHOT";

    private BuildInfo() {}

    /** name -> version for lmc-merge, Java, Spark, DJL and libtorch; libraries not found are left out. */
    public static Map<String, String> versions() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("lmc-merge", VERSION);
        out.put("java", System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")");
        put(out, "spark", "/META-INF/maven/org.apache.spark/spark-core_2.13/pom.properties", "version");
        put(out, "djl", "/ai/djl/engine/api.properties", "djl_version");
        put(out, "libtorch", "/pytorch-engine.properties", "pytorch_version");
        return out;
    }

    private static void put(Map<String, String> out, String name, String resource, String key) {
        try (InputStream in = BuildInfo.class.getResourceAsStream(resource)) {
            if (in == null) {
                return;
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty(key);
            if (v != null) {
                out.put(name, v.trim());
            }
        } catch (IOException e) {
            // A version we cannot read is left out; it must never stop a run.
        }
    }
}
