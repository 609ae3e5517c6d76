package io.gradguard.agent;

import io.gradguard.core.ConfigKeys;
import io.gradguard.core.ConfigSources;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.Policy;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The agent's configuration: agent arguments ({@code key=value,...}), then {@code -Dgradguard.<key>},
 * then {@code GRADGUARD_<KEY>}; the guard keys of {@link GuardConfig} plus the agent's own switches
 * ({@link #STRICT}, {@link #DJL_ENABLED}, {@link #TENSORFLOW_ENABLED}). The core does not know the agent's keys:
 * the agent jar lists them in {@code META-INF/gradguard/config-keys}, so that the guard's sources leave them to
 * the agent (also when an application builds its own guard from the environment while the agent is attached).
 *
 * @param guard the guard configuration
 * @param strict fail at startup instead of running unguarded
 * @param djl guard DJL trainers
 * @param tensorflow guard TensorFlow Java optimizers
 */
public record AgentConfig(GuardConfig guard, boolean strict, boolean djl, boolean tensorflow) {

    /** {@code true} turns every fail-open case into a startup failure (default {@code false}). */
    public static final String STRICT = "strict";
    /** Instrument DJL trainers (default {@code true}). */
    public static final String DJL_ENABLED = "djl.enabled";
    /** Instrument TensorFlow Java optimizers (default {@code true}). */
    public static final String TENSORFLOW_ENABLED = "tensorflow.enabled";

    // The agent's switches: each key with its default and meaning, once.
    private static final Switch STRICT_SWITCH =
            new Switch(STRICT, false, "fail at startup instead of running unguarded");
    private static final Switch DJL_SWITCH = new Switch(DJL_ENABLED, true, "guard DJL trainers");
    private static final Switch TENSORFLOW_SWITCH =
            new Switch(TENSORFLOW_ENABLED, true, "guard TensorFlow Java optimizers");
    private static final List<Switch> SWITCHES = List.of(STRICT_SWITCH, DJL_SWITCH, TENSORFLOW_SWITCH);

    /**
     * The agent's own keys; {@link ConfigKeys#descriptions()} has the guard's.
     *
     * @return every key of the agent with a one-line description of its accepted values and default
     */
    public static Map<String, String> descriptions() {
        Map<String, String> m = new LinkedHashMap<>();
        SWITCHES.forEach(s -> m.put(s.key, "true | false (default " + s.dflt + "): " + s.meaning));
        return Collections.unmodifiableMap(m);
    }

    /**
     * Reads the configuration.
     *
     * @param args the agent arguments, or null
     * @param props system properties
     * @param env environment variables
     * @return the configuration
     * @throws io.gradguard.core.InvalidConfigException naming the key, value and source of a bad setting
     */
    public static AgentConfig read(String args, Properties props, Map<String, String> env) {
        checkEverySource(args, props, env);
        GuardConfig guard = ConfigSources.resolve(GuardConfig.ofDefaults(), args, props, env);
        return new AgentConfig(guard, STRICT_SWITCH.read(args, props, env), DJL_SWITCH.read(args, props, env),
                TENSORFLOW_SWITCH.read(args, props, env));
    }

    /**
     * Checks every value given for an agent key, in every source, also where a later source overrides it: the
     * guard checks its own keys the same way.
     */
    private static void checkEverySource(String args, Properties props, Map<String, String> env) {
        for (Switch s : SWITCHES) {
            String key = s.key;
            String e = env.get(ConfigKeys.envName(key));
            if (e != null) {
                ConfigKeys.parseBoolean(key, e.trim(), "environment variable " + ConfigKeys.envName(key));
            }
            String p = props.getProperty(ConfigKeys.propertyName(key));
            if (p != null) {
                ConfigKeys.parseBoolean(key, p.trim(), "system property " + ConfigKeys.propertyName(key));
            }
        }
        if (args != null) {
            for (String pair : args.split(",")) {
                int eq = pair.indexOf('=');
                String key = eq > 0 ? pair.substring(0, eq).trim() : "";
                if (SWITCHES.stream().anyMatch(s -> s.key.equals(key))) {
                    ConfigKeys.parseBoolean(key, pair.substring(eq + 1).trim(), "agent argument");
                }
            }
        }
    }

    /**
     * Whether {@code strict=true} is asked for, read leniently so that it can be honoured even when the
     * rest of the configuration is bad.
     *
     * @param args the agent arguments
     * @param props system properties
     * @param env environment variables
     * @return true when strict
     */
    public static boolean strictRequested(String args, Properties props, Map<String, String> env) {
        try {
            String[] v = ConfigSources.lookup(STRICT, args, props, env);
            return v != null && Boolean.parseBoolean(v[0]);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** One of the agent's boolean keys. */
    private record Switch(String key, boolean dflt, String meaning) {

        /** @return the value that wins (agent argument, then system property, then environment), or the default */
        boolean read(String args, Properties props, Map<String, String> env) {
            String[] v = ConfigSources.lookup(key, args, props, env);
            return v == null ? dflt : ConfigKeys.parseBoolean(key, v[0], v[1]);
        }
    }

    /**
     * The guard configuration of the {@code n}-th run the agent guards in this JVM (DJL trainers and TensorFlow
     * train ops are counted apart): the first writes the configured log, each later one its own numbered
     * sibling ({@code run.jsonl}, {@code run-2.jsonl}, ...), so that two runs never write the same file.
     *
     * @param n the run's number, from 1
     * @return the guard configuration for that run
     */
    public GuardConfig guardForRun(int n) {
        if (guard.log() == null || n <= 1) {
            return guard;
        }
        return GuardConfig.from(guard).log(numbered(guard.log(), n)).build();
    }

    /**
     * @param log a log file
     * @param n a number
     * @return the file beside it with {@code -n} before its extension ({@code run.jsonl} becomes {@code run-2.jsonl})
     */
    static Path numbered(Path log, int n) {
        String name = log.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String numbered = dot > 0 ? name.substring(0, dot) + "-" + n + name.substring(dot) : name + "-" + n;
        return log.resolveSibling(numbered);
    }

    /** @return true when the guard does anything at all */
    public boolean enabled() {
        return guard.policy() != Policy.OFF;
    }

    @Override
    public String toString() {
        return guard + ", strict=" + strict + ", djl.enabled=" + djl + ", tensorflow.enabled=" + tensorflow;
    }
}
