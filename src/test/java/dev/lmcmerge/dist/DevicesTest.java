package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.ComputeConfig.Device;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The device and thread choice of a task, from fake Spark resource maps. */
class DevicesTest {
    private static final Map<String, String[]> NO_GPU = Map.of();
    private static final Map<String, String[]> GPUS = Map.of("gpu", new String[] {"3", "5"});

    @Test
    void autoWithoutAssignedGpuRunsOnTheCpuWithTaskCpusThreads() {
        Devices.Choice c = Devices.choose(Device.AUTO, OptionalInt.empty(), NO_GPU, 4);
        assertEquals(-1, c.gpu());
        assertEquals(4, c.threads());
        assertTrue(c.device().isGpu() == false);
    }

    @Test
    void autoTakesTheFirstGpuSparkAssignedToTheTask() {
        Devices.Choice c = Devices.choose(Device.AUTO, OptionalInt.empty(), GPUS, 1);
        assertEquals(3, c.gpu());
        assertEquals(ai.djl.Device.gpu(3), c.device());
    }

    @Test
    void cpuIgnoresAssignedGpus() {
        assertEquals(-1, Devices.choose(Device.CPU, OptionalInt.empty(), GPUS, 2).gpu());
    }

    @Test
    void gpuWithoutAnAssignedGpuIsAConfigurationErrorNamingTheKey() {
        LmcException e = assertThrows(LmcException.class,
                () -> Devices.choose(Device.GPU, OptionalInt.empty(), NO_GPU, 1));
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertTrue(e.getMessage().contains("lmc.compute.device"), e.getMessage());
        assertTrue(e.getMessage().contains("spark.executor.resource.gpu.amount"), e.getMessage());
    }

    @Test
    void configuredThreadsOverrideTaskCpus() {
        assertEquals(3, Devices.choose(Device.AUTO, OptionalInt.of(3), NO_GPU, 8).threads());
    }

    @Test
    void anAddressThatIsNotAnIndexIsRefused() {
        LmcException e = assertThrows(LmcException.class,
                () -> Devices.choose(Device.GPU, OptionalInt.empty(), Map.of("gpu", new String[] {"GPU-a1b2"}), 1));
        assertTrue(e.getMessage().contains("GPU-a1b2"), e.getMessage());
    }
}
