package dev.lmcmerge.ops;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a command of the project (a submit script, python3) from the project root and captures its output. */
final class Commands {
    /** The project root: Maven runs tests there. */
    static final Path ROOT = Path.of("").toAbsolutePath();

    /** What a finished command printed and returned. */
    record Result(int exitCode, String stdout, String stderr) {
        /** The whole outcome, for assertion messages. */
        String describe() {
            return "exit " + exitCode + "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
        }
    }

    private Commands() {}

    /** Runs {@code command} with extra environment {@code env} (a null value removes the variable). */
    static Result run(Map<String, String> env, Duration timeout, List<String> command)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("lmc-cmd", ".out");
        Path err = Files.createTempFile("lmc-cmd", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).directory(ROOT.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            // The caller's LMC_* tuning must not leak into what the tests expect as defaults.
            pb.environment().keySet().removeIf(k -> k.startsWith("LMC_") || k.equals("SPARK_HOME")
                    || k.equals("SPARK_SUBMIT"));
            env.forEach((k, v) -> {
                if (v == null) {
                    pb.environment().remove(k);
                } else {
                    pb.environment().put(k, v);
                }
            });
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("timed out after " + timeout + ": " + command + "\n"
                        + Files.readString(out, StandardCharsets.UTF_8) + Files.readString(err, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Runs {@code command} with extra environment {@code env}, for at most a minute. */
    static Result run(Map<String, String> env, String... command) throws IOException, InterruptedException {
        return run(env, Duration.ofMinutes(1), List.of(command));
    }

    /**
     * Splits a line printed by a submit script's dry run into words: bare words and single-quoted
     * words (with {@code '\''} for a quote), the quoting the scripts use.
     */
    static List<String> words(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '\'') {
                    quoted = false;
                } else {
                    w.append(c);
                }
            } else if (c == '\'') {
                quoted = true;
                inWord = true;
            } else if (c == '\\' && i + 1 < line.length()) {
                w.append(line.charAt(++i));
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    out.add(w.toString());
                    w.setLength(0);
                    inWord = false;
                }
            } else {
                w.append(c);
                inWord = true;
            }
        }
        if (quoted) {
            throw new IllegalArgumentException("unterminated quote in: " + line);
        }
        if (inWord) {
            out.add(w.toString());
        }
        return out;
    }
}
