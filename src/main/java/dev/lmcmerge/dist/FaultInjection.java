package dev.lmcmerge.dist;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test seam for failure handling: a test arms a site (e.g. {@code "gradient"}) for a number of
 * failures; tasks reaching that site in this JVM then fail until the count is used up. A test may
 * also attach an action to a site (e.g. stop a datanode while a merged shard is being written).
 * Unarmed (always, outside tests) it does nothing.
 */
final class FaultInjection {
    private static final Map<String, AtomicInteger> ARMED = new ConcurrentHashMap<>();
    private static final Map<String, Runnable> ACTIONS = new ConcurrentHashMap<>();

    private FaultInjection() {}

    /** Makes the next {@code times} tasks reaching {@code site} fail. */
    static void arm(String site, int times) {
        ARMED.put(site, new AtomicInteger(times));
    }

    /** Runs {@code action} every time a task reaches {@code site} (before any armed failure there). */
    static void onReach(String site, Runnable action) {
        ACTIONS.put(site, action);
    }

    /** Disarms every site and removes every action. */
    static void reset() {
        ARMED.clear();
        ACTIONS.clear();
    }

    /** Failures injected at {@code site} are used up. */
    static boolean spent(String site) {
        AtomicInteger n = ARMED.get(site);
        return n == null || n.get() <= 0;
    }

    /** Runs the site's action, if any, then throws if {@code site} is armed (using up one failure). */
    static void check(String site) {
        Runnable action = ACTIONS.get(site);
        if (action != null) {
            action.run();
        }
        AtomicInteger n = ARMED.get(site);
        if (n != null && n.getAndUpdate(x -> Math.max(0, x - 1)) > 0) {
            throw new IllegalStateException("injected failure at " + site + " (test)");
        }
    }
}
