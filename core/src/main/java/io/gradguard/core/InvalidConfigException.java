package io.gradguard.core;

/**
 * A configuration key or value that GradGuard does not accept. The message names the key, the value,
 * what is accepted and where the value came from (builder, agent argument, system property,
 * environment variable).
 */
public class InvalidConfigException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String key;
    private final String value;
    private final String source;

    /**
     * Creates the exception.
     *
     * @param key the configuration key
     * @param value the rejected value as given
     * @param accepted what would have been accepted
     * @param source where the value came from
     */
    public InvalidConfigException(String key, String value, String accepted, String source) {
        super("GradGuard config '" + key + "' must be " + accepted + ", but was '" + value + "' (from "
                + source + ")");
        this.key = key;
        this.value = value;
        this.source = source;
    }

    /** @return the rejected key */
    public String key() {
        return key;
    }

    /** @return the rejected value as given */
    public String value() {
        return value;
    }

    /** @return where the value came from */
    public String source() {
        return source;
    }
}
