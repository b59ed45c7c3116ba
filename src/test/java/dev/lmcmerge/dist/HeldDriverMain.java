package dev.lmcmerge.dist;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Child-JVM entry point of {@link KilledProcessesTest} (not a test class): {@code lmc} itself
 * ({@link dev.lmcmerge.cli.Main}), except that after learned step {@code lmc.test.hold-after-step}
 * the driver writes the file {@code lmc.test.held-marker} and waits, so the test can kill it at a
 * known point instead of racing a run of tiny models that finishes in seconds.
 */
public final class HeldDriverMain {
    private HeldDriverMain() {}

    public static void main(String[] args) {
        int holdAfter = Integer.getInteger("lmc.test.hold-after-step", -1);
        Path marker = Path.of(System.getProperty("lmc.test.held-marker"));
        LearnedMatchingRun.afterStep = t -> {
            if (t == holdAfter) {
                try {
                    Files.writeString(marker, Integer.toString(t));
                    Thread.sleep(Long.MAX_VALUE);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        dev.lmcmerge.cli.Main.main(args);
    }
}
