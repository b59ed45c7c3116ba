package dev.lmcmerge.align;

import dev.lmcmerge.config.LmcException;
import java.util.Locale;
import java.util.Random;

/**
 * The law of the interpolation coefficient alpha sampled at each learned-matching step:
 * uniform on [lo, hi] ({@code uniform} = [0, 1], {@code narrow} = [0.4, 0.6]) or a fixed value
 * ({@code fixed} = 0.5, or {@code fixed:0.3}).
 */
public record AlphaLaw(String name, double lo, double hi) {

    public AlphaLaw {
        if (!(lo >= 0 && hi <= 1 && lo <= hi)) {
            throw LmcException.usage("alpha-sampling", "needs 0 <= lo <= hi <= 1, got [" + lo + ", " + hi + "]");
        }
    }

    public static AlphaLaw uniform() {
        return new AlphaLaw("uniform", 0.0, 1.0);
    }

    public static AlphaLaw narrow() {
        return new AlphaLaw("narrow", 0.4, 0.6);
    }

    public static AlphaLaw fixed(double value) {
        return new AlphaLaw("fixed", value, value);
    }

    /** Parses {@code uniform}, {@code narrow}, {@code fixed} or {@code fixed:VALUE}. */
    public static AlphaLaw parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("uniform")) {
            return uniform();
        }
        if (t.equals("narrow")) {
            return narrow();
        }
        if (t.equals("fixed")) {
            return fixed(0.5);
        }
        if (t.startsWith("fixed:")) {
            try {
                return fixed(Double.parseDouble(t.substring("fixed:".length())));
            } catch (NumberFormatException e) {
                throw LmcException.usage("alpha-sampling", "'" + text + "' has no number after 'fixed:'");
            }
        }
        throw LmcException.usage("alpha-sampling",
                "unknown law '" + text + "'; expected uniform, narrow, fixed or fixed:VALUE");
    }

    public double sample(Random rng) {
        return lo == hi ? lo : lo + (hi - lo) * rng.nextDouble();
    }

    @Override
    public String toString() {
        return lo == hi ? name + ":" + lo : name + "[" + lo + "," + hi + "]";
    }
}
