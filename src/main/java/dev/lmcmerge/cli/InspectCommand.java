package dev.lmcmerge.cli;

import dev.lmcmerge.io.HfCheckpoint;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lmc inspect --model M [--json]}: what a checkpoint is, read from its config.json and
 * safetensors headers only (no weights are read), after the same validation every command does.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Print a checkpoint's family, layers, widths, heads, parameter count, dtypes, bytes and shards.")
final class InspectCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "M",
            description = "Hugging Face model folder: local path, hdfs://, s3a:// or file://.")
    String model;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ModelSummary summary;
        try (HfCheckpoint checkpoint = HfCheckpoint.open(model, new Configuration())) {
            summary = ModelSummary.of(model, checkpoint);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(json ? summary.toJson() : summary.toText());
        return 0;
    }
}
