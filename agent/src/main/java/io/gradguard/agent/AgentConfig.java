package io.gradguard.agent;

import io.gradguard.core.ConfigKeys;
import io.gradguard.core.ConfigSources;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.Policy;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * The agent's configuration: agent arguments ({@code key=value,...}), then {@code -Dgradguard.<key>},
 * then {@code GRADGUARD_<KEY>}; the guard keys of {@link GuardConfig} plus the agent's own switches.
 *
 * @param guard the guard configuration
 * @param strict fail at startup instead of running unguarded
 * @param djl guard DJL trainers
 * @param tensorflow guard TensorFlow Java optimizers
 */
public record AgentConfig(GuardConfig guard, boolean strict, boolean djl, boolean tensorflow) {

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
        GuardConfig guard = ConfigSources.resolve(GuardConfig.ofDefaults(), args, props, env);
        return new AgentConfig(guard, flag(ConfigKeys.STRICT, false, args, props, env),
                flag(ConfigKeys.DJL_ENABLED, true, args, props, env),
                flag(ConfigKeys.TENSORFLOW_ENABLED, true, args, props, env));
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
            String[] v = ConfigSources.lookup(ConfigKeys.STRICT, args, props, env);
            return v != null && Boolean.parseBoolean(v[0]);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static boolean flag(String key, boolean dflt, String args, Properties props, Map<String, String> env) {
        String[] v = ConfigSources.lookup(key, args, props, env);
        return v == null ? dflt : ConfigKeys.parseBoolean(key, v[0], v[1]);
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
