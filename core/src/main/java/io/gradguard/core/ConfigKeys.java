package io.gradguard.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every configuration key of the guard, with its meaning and accepted values, and the text parsing shared by
 * the agent arguments, system properties ({@code gradguard.<key>}) and environment variables
 * ({@code GRADGUARD_<KEY>}, the key upper-cased with dots replaced by underscores). Each key is declared once,
 * with its range, default and meaning, beside the settings it belongs to; this class names them and puts them
 * together. Keys that another component reads itself from the same sources (the Java agent's switches) are
 * that component's: it lists them in a {@code META-INF/gradguard/config-keys} resource, and the guard's sources
 * leave them to it.
 */
public final class ConfigKeys {

    /** Master switch: {@code false} is the same as {@code policy=off}. */
    public static final String ENABLED = "enabled";
    /** {@code auto | clip | monitor | off}. */
    public static final String POLICY = "policy";
    /** A positive number (fixed global-norm clip threshold) or {@code auto} (adaptive). */
    public static final String CLIP_NORM = "clip.norm";
    /** Path of the JSONL event log; empty for none. */
    public static final String LOG = "log";
    /** {@code device | host}: where snapshots are kept. */
    public static final String SNAPSHOT_LOCATION = "snapshot.location";
    /** See {@link GuardConfig#spikeZ()}. */
    public static final String SPIKE_Z = "spike.z";
    /** See {@link GuardConfig#spikeRatio()}. */
    public static final String SPIKE_RATIO = "spike.ratio";
    /** See {@link GuardConfig#spikeCalm()}. */
    public static final String SPIKE_CALM = "spike.calm";
    /** See {@link GuardConfig#spikeAlpha()}. */
    public static final String SPIKE_ALPHA = "spike.alpha";
    /** See {@link GuardConfig#spikeWarmup()}. */
    public static final String SPIKE_WARMUP = "spike.warmup";
    /** See {@link GuardConfig#lossZ()}. */
    public static final String LOSS_Z = "loss.z";
    /** See {@link GuardConfig#lossRatio()}. */
    public static final String LOSS_RATIO = "loss.ratio";
    /** See {@link GuardConfig#lossPatience()}. */
    public static final String LOSS_PATIENCE = "loss.patience";
    /** See {@link GuardConfig#skipRatio()}. */
    public static final String SKIP_RATIO = "skip.ratio";
    /** See {@link GuardConfig#skipMax()}. */
    public static final String SKIP_MAX = "skip.max";
    /** See {@link GuardConfig#nonfiniteMax()}. */
    public static final String NONFINITE_MAX = "nonfinite.max";
    /** See {@link GuardConfig#growthSteps()}. */
    public static final String GROWTH_STEPS = "growth.steps";
    /** See {@link GuardConfig#recoveryClip()}. */
    public static final String RECOVERY_CLIP = "recovery.clip";
    /** See {@link GuardConfig#recoveryPercentile()}. */
    public static final String RECOVERY_PERCENTILE = "recovery.percentile";
    /** See {@link GuardConfig#regressRatio()}. */
    public static final String REGRESS_RATIO = "regress.ratio";
    /** See {@link GuardConfig#slideRatio()}. */
    public static final String SLIDE_RATIO = "slide.ratio";
    /** See {@link GuardConfig#collapseDrop()}. */
    public static final String COLLAPSE_DROP = "collapse.drop";
    /** See {@link GuardConfig#collapseQuiet()}. */
    public static final String COLLAPSE_QUIET = "collapse.quiet";
    /** See {@link GuardConfig#deadShare()}. */
    public static final String DEAD_SHARE = "dead.share";
    /** See {@link GuardConfig#foldRate()}. */
    public static final String FOLD_RATE = "fold.rate";
    /** See {@link GuardConfig#stallSteps()}. */
    public static final String STALL_STEPS = "stall.steps";
    /** See {@link GuardConfig#riseRatio()}. */
    public static final String RISE_RATIO = "rise.ratio";
    /** See {@link GuardConfig#layersEvery()}. */
    public static final String LAYERS_EVERY = "layers.every";
    /** See {@link GuardConfig#snapshotEvery()}. */
    public static final String SNAPSHOT_EVERY = "snapshot.every";
    /** See {@link GuardConfig#rollbackCut()}. */
    public static final String ROLLBACK_CUT = "rollback.cut";
    /** See {@link GuardConfig#rollbackMax()}. */
    public static final String ROLLBACK_MAX = "rollback.max";
    /** See {@link GuardConfig#haltWhenSpent()}. */
    public static final String ROLLBACK_SPENT = "rollback.spent";
    /** See {@link GuardConfig#rollbackSkip()}. */
    public static final String ROLLBACK_SKIP = "rollback.skip";
    /** See {@link GuardConfig#rewarmSteps()}. */
    public static final String REWARM_STEPS = "rewarm.steps";
    /** See {@link GuardConfig#rewarmTarget()}. */
    public static final String REWARM_TARGET = "rewarm.target";
    /** See {@link GuardConfig#lrFloor()}. */
    public static final String LR_FLOOR = "lr.floor";

    /** The master switch. */
    private static final ConfigKey ENABLED_KEY = ConfigKey.of(ENABLED, "true | false", "true",
            "master switch; false = policy off", (b, key, value, source) -> {
                if (!parseBoolean(key, value, source)) {
                    b.policy(Policy.OFF);
                }
            }, null);
    /** What the guard may do. */
    private static final ConfigKey POLICY_KEY = ConfigKey.of(POLICY, "auto | clip | monitor | off",
            GuardConfig.DEFAULT_POLICY.key(), "what the guard may do", (b, key, value, source) -> {
                Policy policy;
                try {
                    policy = Policy.parse(value);
                } catch (IllegalArgumentException e) {
                    throw new InvalidConfigException(key, value, "one of auto, clip, monitor, off", source);
                }
                b.policy(policy);
            }, c -> c.policy().key());

    /** Every key of the guard by name, in the order the descriptions list them. */
    private static final Map<String, ConfigKey> KEYS = new LinkedHashMap<>();
    private static final Map<String, String> DESCRIPTIONS = new LinkedHashMap<>();
    private static final List<ConfigKey> LISTED;

    static {
        List<ConfigKey> all = new ArrayList<>(List.of(ENABLED_KEY, POLICY_KEY));
        all.addAll(DetectionSettings.KEYS);
        all.addAll(RecoverySettings.KEYS);
        all.addAll(RecordingSettings.KEYS);
        for (ConfigKey k : all) {
            KEYS.put(k.key(), k);
            DESCRIPTIONS.put(k.key(), k.description());
        }
        LISTED = all.stream().filter(ConfigKey::listed).toList();
    }

    private ConfigKeys() {}

    /**
     * The guard's keys, each with a one-line description of its accepted values, default and meaning. The Java
     * agent's own keys are described by the agent.
     *
     * @return every key with its description, master switch first, then grouped by concern
     */
    public static Map<String, String> descriptions() {
        return Collections.unmodifiableMap(DESCRIPTIONS);
    }

    /**
     * The system property that sets a key.
     *
     * @param key the key
     * @return {@code gradguard.<key>}
     */
    public static String propertyName(String key) {
        return "gradguard." + key;
    }

    /**
     * The environment variable that sets a key.
     *
     * @param key the key
     * @return {@code GRADGUARD_<KEY>} with dots as underscores
     */
    public static String envName(String key) {
        return "GRADGUARD_" + key.toUpperCase(Locale.ROOT).replace('.', '_');
    }

    /** @return the guard's keys that {@link GuardConfig#asMap()} lists, in description order */
    static List<ConfigKey> listed() {
        return LISTED;
    }

    /**
     * Sets one key from text. A key that another component declared as its own ({@link OtherKeys}) is left to
     * that component.
     *
     * @param b the builder
     * @param key the key, trimmed
     * @param value the value, trimmed
     * @param source where it came from, for error messages
     * @throws InvalidConfigException for an unknown key or a bad value
     */
    static void apply(GuardConfig.Builder b, String key, String value, String source) {
        ConfigKey k = KEYS.get(key);
        if (k != null) {
            k.set(b, value, source);
        } else if (!OtherKeys.keys().contains(key)) {
            List<String> known = new ArrayList<>(KEYS.keySet());
            known.addAll(OtherKeys.keys());
            throw new InvalidConfigException(key, value,
                    "set under a known key (known keys: " + String.join(", ", known) + ")", source);
        }
    }

    /**
     * Parses a boolean setting strictly.
     *
     * @param key the key
     * @param value {@code true} or {@code false}, any case
     * @param source where it came from
     * @return the value
     * @throws InvalidConfigException for anything else
     */
    public static boolean parseBoolean(String key, String value, String source) {
        if (value.equalsIgnoreCase("true")) {
            return true;
        }
        if (value.equalsIgnoreCase("false")) {
            return false;
        }
        throw new InvalidConfigException(key, value, "true or false", source);
    }
}
