package dev.lmcmerge.demo;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the bundled demo files are. The launcher {@code bin/lmc} passes the checkout as the
 * system property {@code lmc.home} (or the environment variable {@code LMC_HOME}); without
 * either, paths resolve against the working directory, which works from the project root.
 */
public final class DemoPaths {
    /** The bundled training text, relative to the project root. */
    public static final String TEXT = "src/demo/text/kjv.txt";

    private DemoPaths() {}

    /** The project root: {@code lmc.home}, else {@code LMC_HOME}, else the working directory. */
    public static Path home() {
        String home = System.getProperty("lmc.home");
        if (home == null || home.isBlank()) {
            home = System.getenv("LMC_HOME");
        }
        return Path.of(home == null || home.isBlank() ? "." : home).toAbsolutePath().normalize();
    }

    /** The bundled text (its plain or {@code .gz} form, whichever exists). */
    public static Path defaultText() {
        Path plain = home().resolve(TEXT);
        Path gz = home().resolve(TEXT + ".gz");
        return Files.exists(plain) || !Files.exists(gz) ? plain : gz;
    }
}
