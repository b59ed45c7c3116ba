package dev.lmcmerge.config;

/** The process exit codes of every lmc command (DESIGN.md section 6). */
public enum ExitCode {
    /** Done. */
    OK(0),
    /** Anything not covered below (an internal failure, a failed self-check). */
    FAILURE(1),
    /** Usage or configuration error: bad flag, bad key, bad value. */
    USAGE(2),
    /** Invalid input: checkpoint, config.json, data set. */
    INVALID_INPUT(3),
    /** The two models cannot be aligned (different family or shapes). */
    INCOMPATIBLE_MODELS(4);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
