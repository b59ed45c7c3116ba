package dev.lmcmerge.dist;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test seam for failure handling: a test arms a site (e.g. {@code "gradient"}) for a number of
 * failures; tasks reaching that site in this JVM then fail until the count is used up. Unarmed
 * (always, outside tests) it does nothing.
 */
final class FaultInjection {
    private static final Map<String, AtomicInteger> ARMED = new ConcurrentHashMap<>();

    private FaultInjection() {}

    /** Makes the next {@code times} tasks reaching {@code site} fail. */
    static void arm(String site, int times) {
        ARMED.put(site, new AtomicInteger(times));
    }

    /** Disarms every site. */
    static void reset() {
        ARMED.clear();
    }

    /** Failures injected at {@code site} are used up. */
    static boolean spent(String site) {
        AtomicInteger n = ARMED.get(site);
        return n == null || n.get() <= 0;
    }

    /** Throws if {@code site} is armed (using up one failure). */
    static void check(String site) {
        AtomicInteger n = ARMED.get(site);
        if (n != null && n.getAndUpdate(x -> Math.max(0, x - 1)) > 0) {
            throw new IllegalStateException("injected failure at " + site + " (test)");
        }
    }
}
