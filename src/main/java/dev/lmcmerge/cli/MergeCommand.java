package dev.lmcmerge.cli;

import dev.lmcmerge.config.JobConfig;
import dev.lmcmerge.dist.MergeJob;
import dev.lmcmerge.dist.SparkSessions;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lmc merge JOB.conf [key=value ...]}: the distributed merge job. Locally it runs in an
 * embedded Spark ({@code local[*]}); under {@code spark-submit} on the cluster the submission
 * configures Spark. Exit codes as for every command; the run's outputs appear at
 * {@code output.path/RUN_ID} only when it completes.
 */
@Command(name = "merge", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Align two checkpoints, measure the barrier curves of every configured method and write the"
                + " merged checkpoint(s): the Spark job (local Spark here, any cluster under spark-submit).",
                "Outputs under output.path/RUN_ID: curves/, barriers/, transforms/ (Parquet), merged/, report.html,"
                        + " run.json, _SUCCESS (see docs/outputs.md)."})
final class MergeCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "JOB.conf",
            description = "Job file (HOCON; local path or hdfs://, s3a://). Omit it to give every key as an override.",
            arity = "0..1")
    String jobFile;

    @Parameters(index = "1..*", paramLabel = "key=value",
            description = "Overrides of job-file keys, e.g. align.steps=50 output.run-id=try2 (the leading lmc. may be"
                    + " left out).")
    List<String> overrides = new ArrayList<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        List<String> all = new ArrayList<>(overrides);
        Optional<String> file = Optional.ofNullable(jobFile);
        if (jobFile != null && jobFile.contains("=")) {
            all.add(0, jobFile);
            file = Optional.empty();
        }
        JobConfig job = JobConfig.load(file, all);
        run(job, spec.commandLine().getOut());
        return 0;
    }

    /** Runs the job in the active Spark session, or in a local one it stops afterwards. */
    static MergeJob.Outcome run(JobConfig job, PrintWriter out) {
        MergeJob.requireKeys(job);
        boolean ours = SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty();
        SparkSession spark = SparkSessions.getOrCreate("lmc-merge");
        try {
            return MergeJob.run(spark, job, out);
        } finally {
            if (ours) {
                spark.stop();
            }
        }
    }
}
