package dev.lmcmerge.config;

/**
 * {@code lmc.check}: the run-time self-check that every transformation is exact.
 *
 * @param tolerance largest |logit difference| allowed between a model and its transformed form
 * @param tokens tokens the check runs through each model
 */
public record CheckConfig(double tolerance, int tokens) {

    static CheckConfig read(ConfigReader r) {
        return new CheckConfig(
                r.doubleIn("lmc.check.tolerance", 0, false, 1, true),
                r.intIn("lmc.check.tokens", 1, 65536));
    }
}
