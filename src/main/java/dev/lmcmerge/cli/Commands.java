package dev.lmcmerge.cli;

import java.util.List;

/**
 * The subcommands of {@code lmc}, in the order {@code lmc --help} lists them. Adding a command
 * is one line here.
 *
 * <p>A command is a picocli {@code @Command} class in this package that implements
 * {@code Callable<Integer>} (returning an exit code) or {@code Runnable}. It prints through
 * {@code spec.commandLine().getOut()} and {@code getErr()} (so tests capture its output), and
 * reports user errors by throwing {@link dev.lmcmerge.config.LmcException}; {@link Main} turns that
 * into one {@code lmc: error: ...} line and the exception's exit code.
 */
final class Commands {
    /** Registered subcommands. Not yet here: transform, interpolate, barrier, merge. */
    static final List<Class<?>> ALL = List.of(
            InspectCommand.class,
            ForwardCommand.class,
            EvalCommand.class,
            TransformCommand.class,
            InterpolateCommand.class,
            BarrierCommand.class,
            TrainDemoCommand.class,
            MergeCommand.class,
            DemoCommand.class);

    private Commands() {}
}
