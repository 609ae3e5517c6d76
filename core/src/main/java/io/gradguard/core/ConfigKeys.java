package io.gradguard.core;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Every configuration key, with its meaning and accepted values, and the text parsing shared by the
 * agent arguments, system properties ({@code gradguard.<key>}) and environment variables
 * ({@code GRADGUARD_<KEY>}, the key upper-cased with dots replaced by underscores).
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
    /** Key: a smoothed loss this many times the best smoothed loss the run reached (floored at 5% of its first loss) is trouble (then: rollback); 0 turns the rule off. */
    public static final String REGRESS_RATIO = "regress.ratio";
    /** Key: after a sign of trouble, a gradient norm this many times below its level in the first steps, with a loss that stopped improving for 20 steps, is a collapse (then: rollback); 0 turns the rule off. */
    public static final String COLLAPSE_DROP = "collapse.drop";
    /** Key: without a prior sign of trouble, a gradient norm this many times below its level in the first steps, with a stalled loss, is a collapse; 0 turns that half of the rule off. */
    public static final String COLLAPSE_QUIET = "collapse.quiet";
    /** Key: when this share of the last 50 applied steps was clipped, the learning-rate scale is cut (rollback.cut) instead of clipping on; 0 turns it off. */
    public static final String FOLD_RATE = "fold.rate";
    /** See {@link GuardConfig#stallSteps()}. */
    public static final String STALL_STEPS = "stall.steps";
    /** Key: the loss-rise rule's ratio to the run's first loss. */
    public static final String RISE_RATIO = "rise.ratio";
    /** See {@link GuardConfig#layersEvery()}. */
    public static final String LAYERS_EVERY = "layers.every";
    /** See {@link GuardConfig#snapshotEvery()}. */
    public static final String SNAPSHOT_EVERY = "snapshot.every";
    /** See {@link GuardConfig#rollbackCut()}. */
    public static final String ROLLBACK_CUT = "rollback.cut";
    /** See {@link GuardConfig#rollbackMax()}. */
    public static final String ROLLBACK_MAX = "rollback.max";
    /** See {@link GuardConfig#rollbackSkip()}. */
    public static final String ROLLBACK_SKIP = "rollback.skip";
    /** See {@link GuardConfig#rewarmSteps()}. */
    public static final String REWARM_STEPS = "rewarm.steps";
    /** See {@link GuardConfig#rewarmTarget()}. */
    public static final String REWARM_TARGET = "rewarm.target";
    /** See {@link GuardConfig#lrFloor()}. */
    public static final String LR_FLOOR = "lr.floor";

    /** Agent only: {@code true} turns every fail-open case into a startup failure. */
    public static final String STRICT = "strict";
    /** Agent only: instrument DJL trainers. */
    public static final String DJL_ENABLED = "djl.enabled";
    /** Agent only: instrument TensorFlow Java optimizers. */
    public static final String TENSORFLOW_ENABLED = "tensorflow.enabled";

    /** Keys read by the Java agent itself; {@link GuardConfig} accepts and ignores them. */
    public static final java.util.Set<String> AGENT_KEYS = java.util.Set.of(STRICT, DJL_ENABLED, TENSORFLOW_ENABLED);

    private static final Map<String, String> DESCRIPTIONS = new LinkedHashMap<>();

    static {
        DESCRIPTIONS.put(ENABLED, "true | false (default true): master switch; false = policy off");
        DESCRIPTIONS.put(STRICT, "true | false (default false; agent only): fail at startup instead of running unguarded");
        DESCRIPTIONS.put(DJL_ENABLED, "true | false (default true; agent only): guard DJL trainers");
        DESCRIPTIONS.put(TENSORFLOW_ENABLED, "true | false (default true; agent only): guard TensorFlow Java optimizers");
        DESCRIPTIONS.put(POLICY, "auto | clip | monitor | off (default auto)");
        DESCRIPTIONS.put(CLIP_NORM, "auto | a positive number (default auto): global-norm clip threshold");
        DESCRIPTIONS.put(LOG, "a file path (default none): JSONL event log");
        DESCRIPTIONS.put(SNAPSHOT_LOCATION, "device | host (default device): where the healthy snapshot is kept");
        DESCRIPTIONS.put(SPIKE_Z, "> 0 (default " + GuardConfig.DEFAULT_SPIKE_Z + "): z threshold of the gradient-norm spike detector (in log-norm standard deviations)");
        DESCRIPTIONS.put(SPIKE_RATIO, "> 1 (default " + GuardConfig.DEFAULT_SPIKE_RATIO + "): minimum ratio of a spike's norm to the typical norm");
        DESCRIPTIONS.put(SPIKE_ALPHA, "in (0, 1) (default " + GuardConfig.DEFAULT_SPIKE_ALPHA + "): EMA decay of the norm and loss statistics (~50-step memory)");
        DESCRIPTIONS.put(SPIKE_WARMUP, ">= 2 (default " + GuardConfig.DEFAULT_SPIKE_WARMUP + "): steps that only feed the statistics before spikes are judged");
        DESCRIPTIONS.put(LOSS_Z, "> 0 (default " + GuardConfig.DEFAULT_LOSS_Z + "): z threshold of the loss spike detector");
        DESCRIPTIONS.put(LOSS_RATIO, "> 1 (default " + GuardConfig.DEFAULT_LOSS_RATIO + "): minimum ratio of a spiking loss to the typical loss");
        DESCRIPTIONS.put(LOSS_PATIENCE, ">= 1 (default " + GuardConfig.DEFAULT_LOSS_PATIENCE + "): consecutive loss spikes before a rollback");
        DESCRIPTIONS.put(SKIP_RATIO, "> 1 (default " + GuardConfig.DEFAULT_SKIP_RATIO + "): ratio to the typical norm (or loss) above which a batch is skipped as an outlier");
        DESCRIPTIONS.put(SKIP_MAX, ">= 0 (default " + GuardConfig.DEFAULT_SKIP_MAX + "): consecutive outlier skips before the guard rolls back (or clips, without a snapshot)");
        DESCRIPTIONS.put(NONFINITE_MAX, ">= 1 (default " + GuardConfig.DEFAULT_NONFINITE_MAX + "): consecutive non-finite steps before the guard rolls back (or halts, without a snapshot)");
        DESCRIPTIONS.put(RECOVERY_CLIP, "0 or > 1 (default " + GuardConfig.DEFAULT_RECOVERY_CLIP + "): after a rollback, clip at this many times the typical norm (0: off)");
        DESCRIPTIONS.put(REGRESS_RATIO, "0 or a finite number greater than 1 (default " + GuardConfig.DEFAULT_REGRESS_RATIO + "): a smoothed loss this many times the best smoothed loss the run reached (floored at 5% of its first loss) is trouble (then: rollback); 0 turns the rule off");
        DESCRIPTIONS.put(COLLAPSE_DROP, "0 or a finite number greater than 1 (default " + GuardConfig.DEFAULT_COLLAPSE_DROP + "): after a sign of trouble, a gradient norm this many times below its level in the first steps, with a loss that stopped improving for 20 steps, is a collapse (then: rollback); 0 turns the rule off");
        DESCRIPTIONS.put(COLLAPSE_QUIET, "0 or a finite number greater than 1 (default " + GuardConfig.DEFAULT_COLLAPSE_QUIET + "): without a prior sign of trouble, a gradient norm this many times below its level in the first steps, with a loss that stopped improving for 20 steps, is a collapse (then: rollback); 0 turns that half of the rule off");
        DESCRIPTIONS.put(RISE_RATIO, "0 or > 1 (default " + GuardConfig.DEFAULT_RISE_RATIO + "): a loss this many times the loss of the run's first step is trouble (then: rollback); 0: off");
        DESCRIPTIONS.put(FOLD_RATE, "0 or a number in (0, 1] (default " + GuardConfig.DEFAULT_FOLD_RATE + "): when this share of the last 50 applied steps was clipped, the learning-rate scale is cut (rollback.cut) instead of clipping on; 0 turns it off");
        DESCRIPTIONS.put(STALL_STEPS, ">= 0 (default " + GuardConfig.DEFAULT_STALL_STEPS + "): after the guard cut the learning rate, blocks of this many applied steps whose mean loss stops improving (two in a row) halve the scale; 0 turns it off");
        DESCRIPTIONS.put(GROWTH_STEPS, ">= 1 (default " + GuardConfig.DEFAULT_GROWTH_STEPS + "): consecutive clipped spikes that count as runaway growth (then: rollback)");
        DESCRIPTIONS.put(LAYERS_EVERY, ">= 0 (default " + GuardConfig.DEFAULT_LAYERS_EVERY + "): steps between per-layer norm records (0: only at events)");
        DESCRIPTIONS.put(SNAPSHOT_EVERY, ">= 0 (default " + GuardConfig.DEFAULT_SNAPSHOT_EVERY + "): steps between healthy snapshots (0: no snapshots, no rollback)");
        DESCRIPTIONS.put(ROLLBACK_CUT, "in (0, 1) (default " + GuardConfig.DEFAULT_ROLLBACK_CUT + "): factor the learning-rate scale is multiplied by at a rollback");
        DESCRIPTIONS.put(ROLLBACK_MAX, ">= 1 (default " + GuardConfig.DEFAULT_ROLLBACK_MAX + "): rollbacks without healthy progress between them before the run is halted");
        DESCRIPTIONS.put(ROLLBACK_SKIP, ">= 0 (default " + GuardConfig.DEFAULT_ROLLBACK_SKIP + "): batches skipped right after a rollback");
        DESCRIPTIONS.put(REWARM_STEPS, ">= 0 (default " + GuardConfig.DEFAULT_REWARM_STEPS + "): healthy steps over which the cut learning-rate scale re-warms");
        DESCRIPTIONS.put(REWARM_TARGET, "in (0, 1) (default " + GuardConfig.DEFAULT_REWARM_TARGET + "): re-warm up to this fraction of the lowest scale that exploded");
        DESCRIPTIONS.put(LR_FLOOR, "in (0, 1) (default " + GuardConfig.DEFAULT_LR_FLOOR + "): the run is halted when the learning-rate scale would fall below this");
    }

    private ConfigKeys() {}

    /** @return every key with a one-line description of its accepted values and default */
    public static Map<String, String> descriptions() {
        return java.util.Collections.unmodifiableMap(DESCRIPTIONS);
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

    static void apply(GuardConfig.Builder b, String key, String value, String source) {
        switch (key) {
            case ENABLED -> {
                if (!parseBoolean(key, value, source)) {
                    b.policy(Policy.OFF);
                }
            }
            case STRICT, DJL_ENABLED, TENSORFLOW_ENABLED -> parseBoolean(key, value, source);
            case POLICY -> {
                try {
                    b.policy(Policy.parse(value));
                } catch (IllegalArgumentException e) {
                    throw new InvalidConfigException(key, value, "one of auto, clip, monitor, off", source);
                }
            }
            case CLIP_NORM -> {
                if (value.equalsIgnoreCase("auto")) {
                    b.clipNormAuto();
                } else {
                    b.clipNorm(parseDouble(key, value, "a positive finite number or 'auto'", source));
                }
            }
            case LOG -> b.log(value.isEmpty() ? null : Path.of(value));
            case SNAPSHOT_LOCATION -> {
                try {
                    b.snapshotLocation(SnapshotLocation.parse(value));
                } catch (IllegalArgumentException e) {
                    throw new InvalidConfigException(key, value, "device or host", source);
                }
            }
            case SPIKE_Z -> b.spikeZ(parseDouble(key, value, "a positive finite number", source));
            case SPIKE_RATIO -> b.spikeRatio(parseDouble(key, value, "a number greater than 1", source));
            case SPIKE_ALPHA -> b.spikeAlpha(parseDouble(key, value, "a number strictly between 0 and 1", source));
            case SPIKE_WARMUP -> b.spikeWarmup(parseInt(key, value, "an integer >= 2", source));
            case LOSS_Z -> b.lossZ(parseDouble(key, value, "a positive finite number", source));
            case LOSS_RATIO -> b.lossRatio(parseDouble(key, value, "a number greater than 1", source));
            case LOSS_PATIENCE -> b.lossPatience(parseInt(key, value, "an integer >= 1", source));
            case SKIP_RATIO -> b.skipRatio(parseDouble(key, value, "a number greater than 1", source));
            case SKIP_MAX -> b.skipMax(parseInt(key, value, "an integer >= 0", source));
            case NONFINITE_MAX -> b.nonfiniteMax(parseInt(key, value, "an integer >= 1", source));
            case GROWTH_STEPS -> b.growthSteps(parseInt(key, value, "an integer >= 1", source));
            case RECOVERY_CLIP -> b.recoveryClip(parseDouble(key, value, "0 or a finite number greater than 1", source));
            case REGRESS_RATIO -> b.regressRatio(parseDouble(key, value, "0 or a finite number greater than 1", source));
            case COLLAPSE_DROP -> b.collapseDrop(parseDouble(key, value, "0 or a finite number greater than 1", source));
            case COLLAPSE_QUIET -> b.collapseQuiet(parseDouble(key, value, "0 or a finite number greater than 1", source));
            case RISE_RATIO -> b.riseRatio(parseDouble(key, value, "0 or a finite number greater than 1", source));
            case FOLD_RATE -> b.foldRate(parseDouble(key, value, "0 or a number in (0, 1]", source));
            case STALL_STEPS -> b.stallSteps(parseInt(key, value, "an integer >= 0", source));
            case LAYERS_EVERY -> b.layersEvery(parseInt(key, value, "an integer >= 0", source));
            case SNAPSHOT_EVERY -> b.snapshotEvery(parseInt(key, value, "an integer >= 0", source));
            case ROLLBACK_CUT -> b.rollbackCut(parseDouble(key, value, "a number strictly between 0 and 1", source));
            case ROLLBACK_MAX -> b.rollbackMax(parseInt(key, value, "an integer >= 1", source));
            case ROLLBACK_SKIP -> b.rollbackSkip(parseInt(key, value, "an integer >= 0", source));
            case REWARM_STEPS -> b.rewarmSteps(parseInt(key, value, "an integer >= 0", source));
            case REWARM_TARGET -> b.rewarmTarget(parseDouble(key, value, "a number strictly between 0 and 1", source));
            case LR_FLOOR -> b.lrFloor(parseDouble(key, value, "a number strictly between 0 and 1", source));
            default -> throw new InvalidConfigException(key, value,
                    "set under a known key (known keys: " + String.join(", ", DESCRIPTIONS.keySet()) + ")", source);
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

    private static double parseDouble(String key, String value, String accepted, String source) {
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new InvalidConfigException(key, value, accepted, source);
        }
    }

    private static int parseInt(String key, String value, String accepted, String source) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new InvalidConfigException(key, value, accepted, source);
        }
    }

    static void checkPositive(String key, double v, String accepted, String source) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new InvalidConfigException(key, Double.toString(v), accepted, source);
        }
    }

    static void checkAbove(String key, double v, double bound, String source) {
        if (!(v > bound) || Double.isInfinite(v)) {
            throw new InvalidConfigException(key, Double.toString(v), "a finite number greater than " + bound, source);
        }
    }

    static void checkOpenUnit(String key, double v, String source) {
        if (!(v > 0 && v < 1)) {
            throw new InvalidConfigException(key, Double.toString(v), "a number strictly between 0 and 1", source);
        }
    }

    static void checkAtLeast(String key, int v, int min, String source) {
        if (v < min) {
            throw new InvalidConfigException(key, Integer.toString(v), "an integer >= " + min, source);
        }
    }
}
