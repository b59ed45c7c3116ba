package dev.lmcmerge.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This process' memory figures from Linux's /proc/self (the benchmarks run on Linux). */
final class ProcStatus {
    private ProcStatus() {
    }

    /** A kB field of /proc/self/status (VmRSS, VmHWM), or -1 if absent. */
    static long kb(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
            return -1;
        } catch (IOException e) {
            return -1;
        }
    }

    /** Resets VmHWM to the current resident size (writing 5 to clear_refs); false if not permitted. */
    static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
