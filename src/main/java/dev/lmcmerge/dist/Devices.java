package dev.lmcmerge.dist;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.lmcmerge.config.ComputeConfig;
import dev.lmcmerge.config.LmcException;
import java.io.Serializable;
import java.util.Map;
import java.util.OptionalInt;
import java.util.logging.Logger;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * The device and libtorch thread count of a task. CPU by default, with libtorch's intra-op
 * threads = {@code spark.task.cpus} so that concurrent tasks do not oversubscribe the
 * executor's cores. With {@code spark.executor.resource.gpu.amount} (and
 * {@code spark.task.resource.gpu.amount}) set, Spark assigns each task GPU addresses; the task
 * then computes on the first one it was given ({@code lmc.compute.device = auto | gpu}).
 */
public final class Devices {
    private static final Logger LOG = Logger.getLogger(Devices.class.getName());
    private static volatile int threadsSet = -1;

    private Devices() {}

    /**
     * A task's compute choice.
     *
     * @param gpu     GPU index, or -1 for the CPU
     * @param threads libtorch intra-op threads
     */
    public record Choice(int gpu, int threads) implements Serializable {
        /** The DJL device. */
        public Device device() {
            return gpu < 0 ? Device.cpu() : Device.gpu(gpu);
        }

        @Override
        public String toString() {
            return (gpu < 0 ? "cpu" : "gpu " + gpu) + ", " + threads + " thread" + (threads == 1 ? "" : "s");
        }
    }

    /**
     * The choice for given facts (pure, for tests).
     *
     * @param device     {@code lmc.compute.device}
     * @param threads    {@code lmc.compute.threads} (empty: auto)
     * @param resources  the task's resources by name (Spark's {@code TaskContext.resources()}), addresses per name
     * @param taskCpus   {@code spark.task.cpus}
     * @throws LmcException USAGE when {@code device = gpu} but Spark assigned no GPU to the task
     */
    public static Choice choose(ComputeConfig.Device device, OptionalInt threads, Map<String, String[]> resources,
                                int taskCpus) {
        String[] gpus = resources.get("gpu");
        boolean hasGpu = gpus != null && gpus.length > 0;
        int t = threads.orElse(Math.max(1, taskCpus));
        return switch (device) {
            case CPU -> new Choice(-1, t);
            case AUTO -> hasGpu ? new Choice(parse(gpus[0]), t) : new Choice(-1, t);
            case GPU -> {
                if (!hasGpu) {
                    throw LmcException.usage("lmc.compute.device", "gpu, but Spark assigned no GPU to this task;"
                            + " set spark.executor.resource.gpu.amount, spark.task.resource.gpu.amount and a"
                            + " discovery script (see docs/operations.md), or use device = auto | cpu");
                }
                yield new Choice(parse(gpus[0]), t);
            }
        };
    }

    private static int parse(String address) {
        try {
            return Integer.parseInt(address.trim());
        } catch (NumberFormatException e) {
            throw LmcException.usage("spark GPU resource", "address \"" + address
                    + "\" is not a GPU index; the discovery script must print indices such as \"0\"");
        }
    }

    /**
     * The choice for the running Spark task (on the driver, outside a task: the CPU), with the
     * libtorch thread count applied. libtorch's thread pool is per process, so the setting is
     * made once per JVM, from the first task.
     */
    public static Choice forCurrentTask(ComputeConfig compute) {
        TaskContext tc = TaskContext.get();
        Map<String, String[]> res = new java.util.HashMap<>();
        int taskCpus = 1;
        if (tc != null) {
            scala.collection.Iterator<scala.Tuple2<String, ResourceInformation>> it = tc.resources().iterator();
            while (it.hasNext()) {
                scala.Tuple2<String, ResourceInformation> e = it.next();
                res.put(e._1(), e._2().addresses());
            }
            taskCpus = tc.cpus();
        } else if (SparkEnv.get() != null) {
            taskCpus = SparkEnv.get().conf().getInt("spark.task.cpus", 1);
        }
        Choice c = choose(compute.device(), compute.threads(), res, taskCpus);
        applyThreads(c.threads());
        return c;
    }

    private static synchronized void applyThreads(int threads) {
        if (threadsSet == threads) {
            return;
        }
        Engine engine = Engine.getEngine("PyTorch");
        if (engine != null) {
            ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
            threadsSet = threads;
            LOG.info("libtorch intra-op threads = " + threads);
        }
    }
}
