package dev.lmcmerge.config;

/**
 * An error the user can act on. Its message says what is wrong, which file or key is at
 * fault and what was expected; the CLI prints it as one line and exits with {@link #exitCode()}.
 */
public class LmcException extends RuntimeException {
    private final ExitCode exitCode;

    public LmcException(ExitCode exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public LmcException(ExitCode exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public ExitCode exitCode() {
        return exitCode;
    }

    /** Bad checkpoint, config.json or data: exit 3. {@code where} is the file or key at fault. */
    public static LmcException invalidInput(String where, String problem) {
        return new LmcException(ExitCode.INVALID_INPUT, where + ": " + problem);
    }

    /** Bad flag or configuration key: exit 2. {@code key} names the flag or key at fault. */
    public static LmcException usage(String key, String problem) {
        return new LmcException(ExitCode.USAGE, key + ": " + problem);
    }

    /** The two models differ in a way no symmetry can bridge: exit 4. */
    public static LmcException incompatible(String problem) {
        return new LmcException(ExitCode.INCOMPATIBLE_MODELS, problem);
    }
}
