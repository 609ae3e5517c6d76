package io.gradguard.core;

import java.util.Objects;
import java.util.function.Function;
import java.util.function.ObjDoubleConsumer;
import java.util.function.ObjIntConsumer;
import java.util.function.ToDoubleFunction;
import java.util.function.ToIntFunction;

/**
 * One key of the guard's configuration, declared once, beside the settings it belongs to: its name, the values
 * it accepts, its default and its meaning (together its line in {@link ConfigKeys#descriptions()}), how a value
 * given as text is set on a {@link GuardConfig.Builder}, and how the value reads back as text
 * ({@link GuardConfig#asMap()}).
 */
final class ConfigKey {

    /** Sets a key from text on a builder. */
    @FunctionalInterface
    interface TextSetter {

        /**
         * @param b the builder
         * @param key the key, for error messages
         * @param value the value as text, trimmed
         * @param source where the value came from, for error messages
         * @throws InvalidConfigException for a bad value
         */
        void set(GuardConfig.Builder b, String key, String value, String source);
    }

    private final String key;
    private final String description;
    private final NumberRange range;
    private final TextSetter setter;
    private final Function<GuardConfig, String> reader;

    private ConfigKey(String key, String description, NumberRange range, TextSetter setter,
            Function<GuardConfig, String> reader) {
        this.key = Objects.requireNonNull(key, "key");
        this.description = description;
        this.range = range;
        this.setter = setter;
        this.reader = reader;
    }

    /**
     * A key whose text is not a plain number ({@code policy}, {@code log}, ...).
     *
     * @param key the name
     * @param accepted the accepted values, as the description writes them
     * @param dflt the default, as text
     * @param meaning what the key does; empty for none
     * @param setter sets the key from text
     * @param reader the value as text, or null for a key that {@link GuardConfig#asMap()} does not list
     * @return the key
     */
    static ConfigKey of(String key, String accepted, String dflt, String meaning, TextSetter setter,
            Function<GuardConfig, String> reader) {
        return new ConfigKey(key, describe(accepted, dflt, meaning), null, setter, reader);
    }

    /**
     * A key that holds a real number.
     *
     * @param key the name
     * @param range the accepted values
     * @param dflt the default
     * @param meaning what the key does
     * @param set the builder's setter, which checks the range
     * @param get the configuration's accessor
     * @return the key
     */
    static ConfigKey real(String key, NumberRange range, double dflt, String meaning,
            ObjDoubleConsumer<GuardConfig.Builder> set, ToDoubleFunction<GuardConfig> get) {
        return new ConfigKey(key, describe(range.shortForm(), Double.toString(dflt), meaning), range,
                (b, k, v, s) -> set.accept(b, range.parse(k, v, s).doubleValue()),
                c -> Double.toString(get.applyAsDouble(c)));
    }

    /**
     * A key that holds an integer.
     *
     * @param key the name
     * @param range the accepted values, an {@link NumberRange#atLeast} range
     * @param dflt the default
     * @param meaning what the key does
     * @param set the builder's setter, which checks the range
     * @param get the configuration's accessor
     * @return the key
     */
    static ConfigKey integer(String key, NumberRange range, int dflt, String meaning,
            ObjIntConsumer<GuardConfig.Builder> set, ToIntFunction<GuardConfig> get) {
        return new ConfigKey(key, describe(range.shortForm(), Integer.toString(dflt), meaning), range,
                (b, k, v, s) -> set.accept(b, range.parse(k, v, s).intValue()),
                c -> Integer.toString(get.applyAsInt(c)));
    }

    private static String describe(String accepted, String dflt, String meaning) {
        return accepted + " (default " + dflt + ")" + (meaning.isEmpty() ? "" : ": " + meaning);
    }

    /** @return the key's name, e.g. {@code spike.z} */
    String key() {
        return key;
    }

    /** @return the accepted values, the default and the meaning, in one line */
    String description() {
        return description;
    }

    /** @return whether {@link GuardConfig#asMap()} lists the key */
    boolean listed() {
        return reader != null;
    }

    /**
     * Sets the key from text.
     *
     * @param b the builder
     * @param value the value as text, trimmed
     * @param source where it came from, for error messages
     * @throws InvalidConfigException for a bad value
     */
    void set(GuardConfig.Builder b, String value, String source) {
        setter.set(b, key, value, source);
    }

    /**
     * @param c a configuration
     * @return the key's value in it, as text
     */
    String read(GuardConfig c) {
        return reader.apply(c);
    }

    /**
     * @param v a value for this real-valued key
     * @param source where it came from, for the message
     * @return {@code v}
     * @throws InvalidConfigException naming the key, the value, the range and the source when it is out of range
     */
    double check(double v, String source) {
        return range.check(key, v, source);
    }

    /**
     * @param v a value for this integer key
     * @param source where it came from, for the message
     * @return {@code v}
     * @throws InvalidConfigException naming the key, the value, the range and the source when it is out of range
     */
    int check(int v, String source) {
        return range.check(key, v, source);
    }
}
