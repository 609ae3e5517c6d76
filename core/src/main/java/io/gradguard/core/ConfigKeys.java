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

    /** {@code auto | clip | monitor | off}. */
    public static final String POLICY = "policy";
    /** A positive number (fixed global-norm clip threshold) or {@code auto} (adaptive). */
    public static final String CLIP_NORM = "clip.norm";
    /** Path of the JSONL event log; empty for none. */
    public static final String LOG = "log";
    /** z threshold of the gradient-norm spike detector. */
    public static final String SPIKE_Z = "spike.z";
    /** Minimum ratio of a spike's norm to the typical norm. */
    public static final String SPIKE_RATIO = "spike.ratio";
    /** EMA decay of the norm statistics. */
    public static final String SPIKE_ALPHA = "spike.alpha";
    /** Steps that only feed the statistics before spikes are judged. */
    public static final String SPIKE_WARMUP = "spike.warmup";
    /** z threshold of the loss spike detector. */
    public static final String LOSS_Z = "loss.z";
    /** Minimum ratio of a spiking loss to the typical loss. */
    public static final String LOSS_RATIO = "loss.ratio";
    /** Ratio to the typical norm or loss above which a batch is skipped. */
    public static final String SKIP_RATIO = "skip.ratio";
    /** Consecutive outlier skips before clipping instead. */
    public static final String SKIP_MAX = "skip.max";
    /** Consecutive non-finite steps tolerated before halting. */
    public static final String NONFINITE_MAX = "nonfinite.max";
    /** Consecutive clipped steps that count as runaway growth. */
    public static final String GROWTH_STEPS = "growth.steps";
    /** Interval of per-layer norm records. */
    public static final String LAYERS_EVERY = "layers.every";
    /** Master switch: {@code false} is the same as {@code policy=off}. */
    public static final String ENABLED = "enabled";

    private static final Map<String, String> DESCRIPTIONS = new LinkedHashMap<>();

    static {
        DESCRIPTIONS.put(ENABLED, "true | false (default true): master switch; false = policy off");
        DESCRIPTIONS.put(POLICY, "auto | clip | monitor | off (default auto)");
        DESCRIPTIONS.put(CLIP_NORM, "auto | a positive number (default auto): global-norm clip threshold");
        DESCRIPTIONS.put(LOG, "a file path (default none): JSONL event log");
        DESCRIPTIONS.put(SPIKE_Z, "> 0 (default " + GuardConfig.DEFAULT_SPIKE_Z + "): norm spike z threshold, in log-norm standard deviations");
        DESCRIPTIONS.put(SPIKE_RATIO, "> 1 (default " + GuardConfig.DEFAULT_SPIKE_RATIO + "): a spike is at least this many times the typical norm");
        DESCRIPTIONS.put(SPIKE_ALPHA, "in (0, 1) (default " + GuardConfig.DEFAULT_SPIKE_ALPHA + "): EMA decay of the norm statistics");
        DESCRIPTIONS.put(SPIKE_WARMUP, ">= 2 (default " + GuardConfig.DEFAULT_SPIKE_WARMUP + "): steps that only feed the statistics");
        DESCRIPTIONS.put(LOSS_Z, "> 0 (default " + GuardConfig.DEFAULT_LOSS_Z + "): loss spike z threshold");
        DESCRIPTIONS.put(LOSS_RATIO, "> 1 (default " + GuardConfig.DEFAULT_LOSS_RATIO + "): a loss spike is at least this many times the typical loss");
        DESCRIPTIONS.put(SKIP_RATIO, "> spike.ratio (default " + GuardConfig.DEFAULT_SKIP_RATIO + "): skip a batch whose norm or loss is this many times the typical one");
        DESCRIPTIONS.put(SKIP_MAX, ">= 0 (default " + GuardConfig.DEFAULT_SKIP_MAX + "): consecutive outlier skips before clipping instead");
        DESCRIPTIONS.put(NONFINITE_MAX, ">= 1 (default " + GuardConfig.DEFAULT_NONFINITE_MAX + "): consecutive non-finite steps before the run is halted");
        DESCRIPTIONS.put(GROWTH_STEPS, ">= 1 (default " + GuardConfig.DEFAULT_GROWTH_STEPS + "): consecutive clipped steps reported as runaway growth");
        DESCRIPTIONS.put(LAYERS_EVERY, ">= 0 (default " + GuardConfig.DEFAULT_LAYERS_EVERY + "): steps between per-layer norm records; 0 = only at events");
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
                    b.clipNorm(parseDouble(key, value, "a positive finite number or 'auto'", source), source);
                }
            }
            case LOG -> b.log(value.isEmpty() ? null : Path.of(value));
            case SPIKE_Z -> b.spikeZ(parseDouble(key, value, "a positive finite number", source), source);
            case SPIKE_RATIO -> b.spikeRatio(parseDouble(key, value, "a number greater than 1", source), source);
            case SPIKE_ALPHA -> b.spikeAlpha(parseDouble(key, value, "a number strictly between 0 and 1", source), source);
            case SPIKE_WARMUP -> b.spikeWarmup(parseInt(key, value, "an integer >= 2", source), source);
            case LOSS_Z -> b.lossZ(parseDouble(key, value, "a positive finite number", source), source);
            case LOSS_RATIO -> b.lossRatio(parseDouble(key, value, "a number greater than 1", source), source);
            case SKIP_RATIO -> b.skipRatio(parseDouble(key, value, "a number greater than 1", source), source);
            case SKIP_MAX -> b.skipMax(parseInt(key, value, "an integer >= 0", source), source);
            case NONFINITE_MAX -> b.nonfiniteMax(parseInt(key, value, "an integer >= 1", source), source);
            case GROWTH_STEPS -> b.growthSteps(parseInt(key, value, "an integer >= 1", source), source);
            case LAYERS_EVERY -> b.layersEvery(parseInt(key, value, "an integer >= 0", source), source);
            default -> throw new InvalidConfigException(key, value,
                    "set under a known key (known keys: " + String.join(", ", DESCRIPTIONS.keySet()) + ")", source);
        }
    }

    private static boolean parseBoolean(String key, String value, String source) {
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
