package dev.lmcmerge.config;

import java.util.List;
import java.util.Locale;

/**
 * Which configuration keys hold secrets. Their values are never printed, never put into an
 * error message and replaced by {@value #MASK} wherever the configuration is rendered
 * (run.json, logs).
 */
public final class Secrets {
    /** What a secret value is rendered as. */
    public static final String MASK = "***";

    /**
     * Fragments that mark a key as secret, matched against the key lower-cased with '-' and '_'
     * read as '.', so {@code fs.s3a.secret.key}, {@code secret-key} and {@code SECRET_KEY} all match.
     * {@code encryption.key} covers S3 server-side encryption keys (fs.s3a.encryption.key).
     */
    private static final List<String> FRAGMENTS = List.of(
            "secret", "password", "access.key", "secret.key", "session.token", "credentials",
            "encryption.key");

    private Secrets() {}

    /** True if the value of {@code key} (any form: full path, Hadoop name) must not be shown. */
    public static boolean isSecret(String key) {
        String k = key.toLowerCase(Locale.ROOT).replace('-', '.').replace('_', '.').replace("\"", "");
        for (String f : FRAGMENTS) {
            if (k.contains(f)) {
                return true;
            }
        }
        return false;
    }
}
