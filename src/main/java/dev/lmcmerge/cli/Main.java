package dev.lmcmerge.cli;

import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code lmc} program: {@code bin/lmc COMMAND ...} locally, and
 * {@code spark-submit --class dev.lmcmerge.cli.Main target/lmc-merge.jar COMMAND ...} on a cluster.
 *
 * <p>Exit codes ({@link ExitCode}): 0 done; 2 usage or configuration error (printed with the
 * usage of the command at fault); 3 invalid input; 4 models that cannot be aligned; 1 anything
 * else. An {@link LmcException} prints one line {@code lmc: error: MESSAGE} on stderr; any other
 * exception prints its message, and its stack trace only with {@code --debug} or
 * {@code LMC_DEBUG=1}. The subcommands are listed in {@link Commands}.
 */
@Command(name = "lmc", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Aligns two transformer checkpoints of one architecture with exact symmetry"
                + " transformations, measures the loss barrier on the straight line between them, and merges them.",
        footerHeading = "%nExit codes:%n",
        footer = {
            "  0  done",
            "  1  anything else (internal error, failed self-check)",
            "  2  usage or configuration error",
            "  3  invalid input (checkpoint, config.json, data)",
            "  4  the two models cannot be aligned (different family or shapes)"})
public final class Main implements Callable<Integer> {

    /** Environment variable that turns on stack traces like {@code --debug}. */
    static final String DEBUG_ENV = "LMC_DEBUG";

    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "Print the stack trace of unexpected errors (also: LMC_DEBUG=1).")
    boolean debug;

    @Spec
    CommandSpec spec;

    /** {@code lmc} without a command is a usage error. */
    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(),
                "missing command; choose one of " + String.join(", ", spec.subcommands().keySet()));
    }

    /** Runs {@code lmc ARGS} and exits the JVM with its exit code. */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs {@code lmc ARGS} on System.out and System.err; returns the exit code without exiting. */
    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs {@code lmc ARGS} printing to {@code out} and {@code err}; returns the exit code. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return execute(commandLine(), out, err, args);
    }

    /** The {@code lmc} command with every registered subcommand; tests may add more before {@link #execute}. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        for (Class<?> c : Commands.ALL) {
            cl.addSubcommand(c);
        }
        cl.addSubcommand("help", new CommandLine.HelpCommand());
        return cl;
    }

    /** Gives every command of the tree lmc's {@code --version} text (subcommands have none of their own). */
    private static void shareVersion(CommandLine cl) {
        cl.getCommandSpec().versionProvider(new VersionProvider());
        cl.getSubcommands().values().forEach(Main::shareVersion);
    }

    /** Runs {@code cl} with lmc's output streams and error handling (set here, after all subcommands exist). */
    static int execute(CommandLine cl, PrintWriter out, PrintWriter err, String... args) {
        shareVersion(cl);
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler(Main::onUsageError);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> onFailure(ex, commandLine.getErr(),
                debugRequested(parseResult)));
        try {
            return cl.execute(args);
        } catch (Throwable t) {
            // Errors (OutOfMemoryError, UnsatisfiedLinkError) are not Exceptions and pass picocli's handler.
            return onFailure(t, err, debugRequested(cl.getParseResult()));
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static int onUsageError(ParameterException ex, String[] args) {
        CommandLine c = ex.getCommandLine();
        PrintWriter err = c.getErr();
        err.println("lmc: error: " + ex.getMessage());
        UnmatchedArgumentException.printSuggestions(ex, err);
        err.println();
        c.usage(err);
        return ExitCode.USAGE.code();
    }

    /**
     * Reports a failure of a command. An {@link LmcException} anywhere in the cause chain
     * (Spark wraps the ones thrown in tasks) decides the exit code and the one-line message.
     */
    static int onFailure(Throwable t, PrintWriter err, boolean debug) {
        LmcException lmc = findLmcException(t);
        if (lmc != null) {
            err.println("lmc: error: " + lmc.getMessage());
            if (debug) {
                t.printStackTrace(err);
            }
            return lmc.exitCode().code();
        }
        err.println("lmc: error: " + t);
        if (debug) {
            t.printStackTrace(err);
        } else {
            err.println("lmc: run with --debug (or " + DEBUG_ENV + "=1) for the stack trace");
        }
        return ExitCode.FAILURE.code();
    }

    private static LmcException findLmcException(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof LmcException lmc) {
                return lmc;
            }
        }
        return null;
    }

    /** {@code --debug} given on any command level, or LMC_DEBUG set to 1 or true. */
    private static boolean debugRequested(ParseResult parseResult) {
        String env = System.getenv(DEBUG_ENV);
        if (env != null && (env.equals("1") || env.equalsIgnoreCase("true"))) {
            return true;
        }
        for (ParseResult pr = parseResult; pr != null; pr = pr.subcommand()) {
            if (pr.hasMatchedOption("--debug")) {
                return true;
            }
        }
        return false;
    }
}
