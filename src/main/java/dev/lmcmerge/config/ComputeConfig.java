package dev.lmcmerge.config;

import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * {@code lmc.compute}: resources of each task.
 *
 * @param device device of the tensor math
 * @param threads libtorch threads per task; empty: {@code spark.task.cpus}
 * @param cacheSizeBytes off-heap weight cache per executor; empty: what the executor's memory allows
 * @param stepGraphMemoryBytes the largest estimated autograd graph a learned step may hold in one task;
 *                             above it the step streams layer blocks (0: always stream)
 */
public record ComputeConfig(Device device, OptionalInt threads, OptionalLong cacheSizeBytes, long stepGraphMemoryBytes) {

    /** Devices: auto picks the GPU Spark assigned to the task, else the CPU. */
    public enum Device { AUTO, CPU, GPU }

    static ComputeConfig read(ConfigReader r) {
        return new ComputeConfig(
                r.enumValue("lmc.compute.device", Device.class),
                r.autoOrInt("lmc.compute.threads", 1, 1024),
                r.autoOrBytes("lmc.compute.cache-size", 1),
                r.bytesAtLeast("lmc.compute.step-graph-memory", 0));
    }
}
