package dev.lmcmerge.cli;

import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * {@code lmc demo}: merges the bundled demo pair and prints the barrier table. Until the merge
 * job exists it says so and exits with the usage code: nothing is faked.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Merge the bundled demo pair locally and print the barrier table (not available yet).")
final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new LmcException(ExitCode.USAGE,
                "demo: not available yet; the demo arrives with the merge job. Available now: lmc inspect --model DIR");
    }
}
