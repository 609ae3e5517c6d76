package io.gradguard.core;

import java.util.Map;
import java.util.Properties;

/**
 * Reads a {@link GuardConfig} from the places a user can set it without code: {@code key=value,...}
 * text (agent arguments), system properties {@code gradguard.<key>} and environment variables
 * {@code GRADGUARD_<KEY>}. Later sources override earlier ones: environment, then system properties,
 * then the text.
 */
public final class ConfigSources {

    private ConfigSources() {}

    /**
     * The configuration from this JVM's system properties and environment, over the defaults.
     *
     * @return the configuration
     * @throws InvalidConfigException naming the key, value and source of the first bad setting
     */
    public static GuardConfig fromEnvironment() {
        return resolve(GuardConfig.ofDefaults(), null, System.getProperties(), System.getenv());
    }

    /**
     * Resolves a configuration from a base and the three sources.
     *
     * @param base the starting configuration (e.g. what a program passed in code)
     * @param text {@code key=value,key=value} text, or null
     * @param properties system properties; only {@code gradguard.*} ones are read
     * @param env environment variables; only those of known keys are read
     * @return the configuration
     * @throws InvalidConfigException naming the key, value and source of the first bad setting
     */
    public static GuardConfig resolve(
            GuardConfig base, String text, Properties properties, Map<String, String> env) {
        GuardConfig.Builder b = GuardConfig.from(base);
        for (String key : ConfigKeys.descriptions().keySet()) {
            String name = ConfigKeys.envName(key);
            String v = env.get(name);
            if (v != null) {
                b.set(key, v, "environment variable " + name);
            }
        }
        for (String name : properties.stringPropertyNames()) {
            if (name.startsWith("gradguard.")) {
                String key = name.substring("gradguard.".length());
                b.set(key, properties.getProperty(name), "system property " + name);
            }
        }
        if (text != null) {
            applyText(b, text, "agent argument");
        }
        return b.build();
    }

    /**
     * Applies {@code key=value,key=value} text to a builder.
     *
     * @param b the builder
     * @param text the text; blank is allowed
     * @param source where the text came from, for error messages
     * @return the builder
     * @throws InvalidConfigException for a malformed pair, an unknown key or a bad value
     */
    public static GuardConfig.Builder applyText(GuardConfig.Builder b, String text, String source) {
        for (String pair : text.split(",")) {
            if (pair.isBlank()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new InvalidConfigException(pair.trim(), "", "written as key=value", source);
            }
            b.set(pair.substring(0, eq), pair.substring(eq + 1), source);
        }
        return b;
    }

    /**
     * The effective raw value of one key: the text wins over the system property, which wins over the
     * environment variable.
     *
     * @param key the key
     * @param text {@code key=value,...} text, or null
     * @param properties system properties
     * @param env environment variables
     * @return the value and its source, or null when no source sets the key
     */
    public static String[] lookup(String key, String text, Properties properties, Map<String, String> env) {
        if (text != null) {
            for (String pair : text.split(",")) {
                int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).trim().equals(key)) {
                    return new String[] {pair.substring(eq + 1).trim(), "agent argument"};
                }
            }
        }
        String prop = properties.getProperty(ConfigKeys.propertyName(key));
        if (prop != null) {
            return new String[] {prop.trim(), "system property " + ConfigKeys.propertyName(key)};
        }
        String e = env.get(ConfigKeys.envName(key));
        return e == null ? null : new String[] {e.trim(), "environment variable " + ConfigKeys.envName(key)};
    }

    /**
     * Parses {@code key=value,key=value} text over the defaults.
     *
     * @param text the text
     * @return the configuration
     * @throws InvalidConfigException for a malformed pair, an unknown key or a bad value
     */
    public static GuardConfig parse(String text) {
        return applyText(GuardConfig.custom(), text, "text").build();
    }
}
