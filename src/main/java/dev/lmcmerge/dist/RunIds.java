package dev.lmcmerge.dist;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/** Run ids: the configured {@code output.run-id}, or a new one from the start time. */
public final class RunIds {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
            .withZone(ZoneOffset.UTC);

    private RunIds() {}

    /** {@code configured} if set, else {@link #fromTime}. */
    public static String resolve(Optional<String> configured, Instant start) {
        return configured.orElseGet(() -> fromTime(start));
    }

    /**
     * A new id such as {@code 20260301-142501-3fa2}: the UTC start time (so runs sort by time)
     * and four random hex digits (so two runs started in the same second do not collide).
     */
    public static String fromTime(Instant start) {
        return STAMP.format(start) + "-" + String.format("%04x", ThreadLocalRandom.current().nextInt(1 << 16));
    }
}
