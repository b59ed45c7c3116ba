package dev.lmcmerge.dist;

import dev.lmcmerge.config.AlignConfig;
import dev.lmcmerge.config.ComputeConfig;
import dev.lmcmerge.config.JobConfig;
import dev.lmcmerge.symmetry.SlotGroup;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;

/**
 * What every task of a run needs to find and prepare the models itself: their locations, the
 * symmetry settings, the compute settings and the Hadoop properties for the stores. Shipped
 * with each task (a few hundred bytes); the Hadoop properties may hold credentials and are never
 * printed ({@link #toString()} leaves them out).
 *
 * @param modelA     model A's folder, fully qualified
 * @param modelB     model B's folder, fully qualified
 * @param orthogonal residual rotation parameterization ({@code cayley} or {@code expm})
 * @param groups     symmetry groups the transforms use
 * @param device     {@code lmc.compute.device}
 * @param threads    {@code lmc.compute.threads}, 0 for auto
 * @param cacheLimit the executor cache limit in bytes (resolved from {@code auto} on the executor when 0)
 * @param stepGraphMemory the largest estimated graph a learned step may hold ({@code lmc.compute.step-graph-memory})
 * @param hadoop     {@code fs.s3a.*} properties for every file system the tasks open (secret)
 * @param scope      what cached weights belong to (the run attempt): a later run in the same JVM
 *                   reads the checkpoints again, in case they changed in between
 * @param forms      which cached forms later tasks still need: executors drop the others from
 *                   their caches before making anything (see {@link Forms})
 */
public record JobContext(String modelA, String modelB, String orthogonal, List<String> groups,
                         ComputeConfig.Device device, int threads, long cacheLimit, long stepGraphMemory,
                         Map<String, String> hadoop,
                         String scope, Forms forms) implements Serializable {

    /** The model forms that later tasks of a run still need in the executors' caches. */
    public enum Forms {
        /** Stored, canonical and transformed forms: until the first self-check and the naive curve. */
        ALL,
        /** Canonical forms and learning's starting forms (canonical forms under earlier transforms). */
        NOT_STORED,
        /** Canonical forms only: after learning, evaluation and the export make everything else part by part. */
        CANONICAL
    }

    public JobContext {
        groups = List.copyOf(groups);
        hadoop = new LinkedHashMap<>(hadoop);
    }

    /**
     * The context of a planned run whose tasks also get the Spark configuration's
     * {@code spark.hadoop.*} settings (as the driver's Hadoop configuration does); the job's
     * {@code lmc.s3} keys win over them.
     */
    public static JobContext of(MergePlan plan, String scope, org.apache.spark.SparkConf sparkConf) {
        JobContext base = of(plan, scope);
        Map<String, String> hadoop = new LinkedHashMap<>(sparkHadoopSettings(sparkConf));
        hadoop.putAll(base.hadoop());
        return new JobContext(base.modelA(), base.modelB(), base.orthogonal(), base.groups(), base.device(),
                base.threads(), base.cacheLimit(), base.stepGraphMemory(), hadoop, base.scope(), Forms.ALL);
    }

    /** {@code spark.hadoop.K = V} entries of a Spark configuration as {@code K = V}. */
    static Map<String, String> sparkHadoopSettings(org.apache.spark.SparkConf conf) {
        Map<String, String> out = new LinkedHashMap<>();
        for (scala.Tuple2<String, String> e : conf.getAllWithPrefix("spark.hadoop.")) {
            out.put(e._1(), e._2());
        }
        return out;
    }

    /** The context of a planned run; {@code scope} names the run attempt. */
    public static JobContext of(MergePlan plan, String scope) {
        JobConfig job = plan.job();
        List<String> groups = new ArrayList<>();
        for (AlignConfig.Symmetry s : job.align().symmetries()) {
            groups.add(s.name());
        }
        return new JobContext(plan.modelA().location(), plan.modelB().location(),
                job.align().orthogonal().name(), groups, job.compute().device(), job.compute().threads().orElse(0),
                job.compute().cacheSizeBytes().orElse(0L), job.compute().stepGraphMemoryBytes(), job.hadoopProperties(), scope,
                Forms.ALL);
    }

    /** This context for the tasks that need only {@code needed} of the cached forms (see {@link Forms}). */
    public JobContext needing(Forms needed) {
        return new JobContext(modelA, modelB, orthogonal, groups, device, threads, cacheLimit, stepGraphMemory, hadoop, scope,
                needed);
    }

    /** The compute settings as configured. */
    public ComputeConfig compute() {
        return new ComputeConfig(device, threads > 0 ? java.util.OptionalInt.of(threads) : java.util.OptionalInt.empty(),
                cacheLimit > 0 ? java.util.OptionalLong.of(cacheLimit) : java.util.OptionalLong.empty(), stepGraphMemory);
    }

    /** The folder of side {@code a} or {@code b}. */
    public String location(String side) {
        return side.equals("a") ? modelA : modelB;
    }

    /** The symmetry groups as the symmetry package names them. */
    public Set<SlotGroup> slotGroups() {
        Set<SlotGroup> out = EnumSet.noneOf(SlotGroup.class);
        for (String g : groups) {
            out.add(SlotGroup.valueOf(g));
        }
        return out;
    }

    /** A Hadoop configuration with this run's store properties (the cluster's *-site.xml as defaults). */
    public Configuration hadoopConf() {
        Configuration conf = new Configuration();
        hadoop.forEach(conf::set);
        return conf;
    }

    /** The executor cache limit: the configured size, or {@link ExecutorModelCache#autoLimit()}. */
    public long effectiveCacheLimit() {
        return cacheLimit > 0 ? cacheLimit : ExecutorModelCache.autoLimit();
    }

    @Override
    public String toString() {
        return "JobContext[A=" + modelA + ", B=" + modelB + ", groups=" + groups + ", device=" + device + "]";
    }
}
