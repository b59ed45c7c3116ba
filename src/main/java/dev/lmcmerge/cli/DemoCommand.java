package dev.lmcmerge.cli;

import dev.lmcmerge.config.JobConfig;
import dev.lmcmerge.demo.DemoPaths;
import dev.lmcmerge.dist.MergeJob;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lmc demo}: the merge job of {@code conf/demo.conf} on the bundled demo pair
 * ({@code src/demo/models/seed1}, {@code seed2}) with the bundled text's held-out split, in local
 * Spark. Prints the barrier table per method and writes everything under {@code out/demo/},
 * including {@code report.html}. Paths of the job file are taken relative to the project root,
 * so it runs from any directory.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Merge the bundled demo pair locally (conf/demo.conf): prints the barrier table per method and"
                + " writes out/demo/ with report.html. A few minutes on 2 cores."})
final class DemoCommand implements Callable<Integer> {
    /** The demo's job file, relative to the project root. */
    static final String CONF = "conf/demo.conf";
    /** Keys holding local paths that are relative to the project root. */
    static final List<String> PATH_KEYS = List.of("model-a", "model-b", "data.train", "data.eval", "data.tokenizer",
            "output.path");

    @Parameters(paramLabel = "key=value", description = "Overrides of conf/demo.conf keys, e.g. align.steps=20.")
    List<String> overrides = new ArrayList<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path home = DemoPaths.home();
        String conf = home.resolve(CONF).toString();
        JobConfig first = JobConfig.load(Optional.of(conf), overrides);
        List<String> all = new ArrayList<>();
        for (String key : PATH_KEYS) {
            if (first.raw().hasPath("lmc." + key)) {
                String v = first.raw().getString("lmc." + key);
                if (isRelativeLocal(v)) {
                    all.add(key + "=" + home.resolve(v).normalize());
                }
            }
        }
        all.addAll(overrides);
        JobConfig job = JobConfig.load(Optional.of(conf), all);
        MergeJob.Outcome o = MergeCommand.run(job, out);
        Path report = Path.of(o.folder().toUri()).resolve("report.html");
        out.println(Files.exists(report) ? "report: " + report : "outputs: " + o.folder());
        out.flush();
        return 0;
    }

    private static boolean isRelativeLocal(String v) {
        return !v.startsWith("/") && !v.matches("^[A-Za-z][A-Za-z0-9+.-]+:.*");
    }
}
