package io.gradguard.core;

import java.util.function.DoublePredicate;

/**
 * The values a numeric configuration key accepts, with the words that its description and its error messages
 * use. Text that is not a number at all is rejected with {@link #parseWords()}; a number outside the range with
 * {@link #checkWords()} (the two differ for some ranges, as they always have).
 */
final class NumberRange {

    /** A positive finite number. */
    static final NumberRange POSITIVE = real("> 0", "a positive finite number", "a positive finite number",
            v -> v > 0 && !Double.isInfinite(v));
    /** A positive finite number, for a key that also takes {@code auto}. */
    static final NumberRange POSITIVE_OR_AUTO = real("auto | a positive number", "a positive finite number or 'auto'",
            "a positive finite number or 'auto'", v -> v > 0 && !Double.isInfinite(v));
    /** A finite number greater than 1. */
    static final NumberRange ABOVE_ONE = real("> 1", "a number greater than 1", "a finite number greater than 1.0",
            v -> v > 1 && !Double.isInfinite(v));
    /** 0 (the rule is off) or a finite number greater than 1. */
    static final NumberRange OFF_OR_ABOVE_ONE = real("0 or > 1", "0 or a finite number greater than 1",
            "a finite number greater than 1.0", v -> v == 0 || v > 1 && !Double.isInfinite(v));
    /** 0 (off) or a percentile strictly between 0 and 100. */
    static final NumberRange OFF_OR_PERCENTILE = real("0 or in (0, 100)", "0 or a number strictly between 0 and 100",
            "0 or a number strictly between 0 and 100", v -> v == 0 || v > 0 && v < 100);
    /** A number strictly between 0 and 1. */
    static final NumberRange OPEN_UNIT = real("in (0, 1)", "a number strictly between 0 and 1",
            "a number strictly between 0 and 1", v -> v > 0 && v < 1);
    /** 0 (the rule is off) or a share in (0, 1]. */
    static final NumberRange OFF_OR_SHARE = real("0 or in (0, 1]", "0 or a number in (0, 1]", "0 or a number in (0, 1]",
            v -> v == 0 || v > 0 && v <= 1);

    private final String shortForm;
    private final String parseWords;
    private final String checkWords;
    private final DoublePredicate accepts;
    private final boolean integer;

    private NumberRange(String shortForm, String parseWords, String checkWords, DoublePredicate accepts,
            boolean integer) {
        this.shortForm = shortForm;
        this.parseWords = parseWords;
        this.checkWords = checkWords;
        this.accepts = accepts;
        this.integer = integer;
    }

    private static NumberRange real(String shortForm, String parseWords, String checkWords, DoublePredicate accepts) {
        return new NumberRange(shortForm, parseWords, checkWords, accepts, false);
    }

    /**
     * @param min the smallest integer accepted
     * @return the integers from {@code min} up
     */
    static NumberRange atLeast(int min) {
        String words = "an integer >= " + min;
        return new NumberRange(">= " + min, words, words, v -> v >= min, true);
    }

    /** @return the range as a key's description writes it, e.g. {@code > 1} */
    String shortForm() {
        return shortForm;
    }

    /** @return what a value that is no number is told is accepted */
    String parseWords() {
        return parseWords;
    }

    /**
     * @param key the key, for the message
     * @param v the value
     * @param source where it came from, for the message
     * @return {@code v}
     * @throws InvalidConfigException naming the key, the value, this range and the source when {@code v} is outside
     */
    double check(String key, double v, String source) {
        if (!accepts.test(v)) {
            throw new InvalidConfigException(key, Double.toString(v), checkWords, source);
        }
        return v;
    }

    /**
     * @param key the key, for the message
     * @param v the value
     * @param source where it came from, for the message
     * @return {@code v}
     * @throws InvalidConfigException naming the key, the value, this range and the source when {@code v} is outside
     */
    int check(String key, int v, String source) {
        if (!accepts.test(v)) {
            throw new InvalidConfigException(key, Integer.toString(v), checkWords, source);
        }
        return v;
    }

    /**
     * Reads a number from text; the range itself is checked by the builder's setter.
     *
     * @param key the key, for the message
     * @param text the value as text
     * @param source where it came from, for the message
     * @return the number ({@code Integer} for an integer range, else {@code Double})
     * @throws InvalidConfigException naming the key, the text, what is accepted and the source when it is no number
     */
    Number parse(String key, String text, String source) {
        try {
            return integer ? (Number) Integer.parseInt(text) : (Number) Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new InvalidConfigException(key, text, parseWords, source);
        }
    }
}
