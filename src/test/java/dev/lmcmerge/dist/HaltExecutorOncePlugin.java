package dev.lmcmerge.dist;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;

/**
 * A Spark plugin for {@link KilledProcessesTest} (not a test class) that halts executor JVMs as
 * lost machines would (no shutdown hooks, no streams closed, exit code 137), each fault once
 * across every executor and their replacements (a marker file created atomically decides):
 *
 * <ul>
 *   <li>{@code spark.lmc.test.halt-job}: the first task whose job description starts with it
 *       halts its executor as it starts (marker {@code spark.lmc.test.halt-marker});</li>
 *   <li>{@code spark.lmc.test.halt-write-marker}: the first executor to reach the third tensor of
 *       a merged-checkpoint file halts in the middle of writing it, with the file open.</li>
 * </ul>
 */
public final class HaltExecutorOncePlugin implements SparkPlugin {
    static final String MARKER = "spark.lmc.test.halt-marker";
    static final String JOB = "spark.lmc.test.halt-job";
    static final String WRITE_MARKER = "spark.lmc.test.halt-write-marker";

    @Override
    public DriverPlugin driverPlugin() {
        return null;
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new ExecutorPlugin() {
            private Path marker;
            private String job;

            @Override
            public void init(PluginContext ctx, Map<String, String> extraConf) {
                marker = Path.of(ctx.conf().get(MARKER));
                job = ctx.conf().get(JOB);
                if (ctx.conf().contains(WRITE_MARKER)) {
                    Path writeMarker = Path.of(ctx.conf().get(WRITE_MARKER));
                    AtomicInteger tensors = new AtomicInteger();
                    FaultInjection.onReach("merged-tensor", () -> {
                        if (tensors.incrementAndGet() == 3) {
                            haltOnce(writeMarker, "writing " + TaskContext.get().getLocalProperty("spark.job.description"));
                        }
                    });
                }
            }

            @Override
            public void onTaskStart() {
                String description = TaskContext.get().getLocalProperty("spark.job.description");
                if (description != null && description.startsWith(job)) {
                    haltOnce(marker, description);
                }
            }
        };
    }

    /** Halts this JVM unless {@code marker} exists (it records {@code what} and the task). */
    static void haltOnce(Path marker, String what) {
        try {
            Files.writeString(marker, what + " (task " + TaskContext.get().taskAttemptId() + ")",
                    StandardOpenOption.CREATE_NEW);
        } catch (FileAlreadyExistsException e) {
            return; // that fault happened already
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Runtime.getRuntime().halt(137);
    }
}
