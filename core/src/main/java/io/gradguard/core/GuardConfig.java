package io.gradguard.core;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * The immutable configuration of a guard. Build it with {@link #custom()}, start from
 * {@link #ofDefaults()}, or read it from text, system properties and environment variables with
 * {@link ConfigSources}. Every key, its default and its accepted range is listed in {@link ConfigKeys}.
 */
public final class GuardConfig {

    /** Default policy. */
    public static final Policy DEFAULT_POLICY = Policy.AUTO;
    /** Default z threshold of the gradient-norm spike detector (in log-norm standard deviations). */
    public static final double DEFAULT_SPIKE_Z = 6.0;
    /** Default minimum ratio of a spike's norm to the typical norm. */
    public static final double DEFAULT_SPIKE_RATIO = 2.0;
    /** Default EMA decay of the norm statistics (~50-step memory). */
    public static final double DEFAULT_SPIKE_ALPHA = 0.98;
    /** Default number of steps that only feed the statistics before spikes are judged. */
    public static final int DEFAULT_SPIKE_WARMUP = 20;
    /** Default z threshold of the loss spike detector. */
    public static final double DEFAULT_LOSS_Z = 6.0;
    /** Default minimum ratio of a spiking loss to the typical loss. */
    public static final double DEFAULT_LOSS_RATIO = 3.0;
    /** Default ratio to the typical norm (or loss) above which a batch is skipped as an outlier. */
    public static final double DEFAULT_SKIP_RATIO = 50.0;
    /** Default number of consecutive outlier skips before the guard clips instead. */
    public static final int DEFAULT_SKIP_MAX = 3;
    /** Default number of consecutive non-finite steps tolerated before the run is halted. */
    public static final int DEFAULT_NONFINITE_MAX = 10;
    /** Default number of consecutive clipped steps that count as runaway growth. */
    public static final int DEFAULT_GROWTH_STEPS = 20;
    /** Default interval, in steps, of the per-layer norm records. */
    public static final int DEFAULT_LAYERS_EVERY = 100;

    private static final GuardConfig DEFAULTS = new Builder().build();

    private final Policy policy;
    private final Double clipNorm;
    private final Path log;
    private final double spikeZ;
    private final double spikeRatio;
    private final double spikeAlpha;
    private final int spikeWarmup;
    private final double lossZ;
    private final double lossRatio;
    private final double skipRatio;
    private final int skipMax;
    private final int nonfiniteMax;
    private final int growthSteps;
    private final int layersEvery;

    private GuardConfig(Builder b) {
        this.policy = b.policy;
        this.clipNorm = b.clipNorm;
        this.log = b.log;
        this.spikeZ = b.spikeZ;
        this.spikeRatio = b.spikeRatio;
        this.spikeAlpha = b.spikeAlpha;
        this.spikeWarmup = b.spikeWarmup;
        this.lossZ = b.lossZ;
        this.lossRatio = b.lossRatio;
        this.skipRatio = b.skipRatio;
        this.skipMax = b.skipMax;
        this.nonfiniteMax = b.nonfiniteMax;
        this.growthSteps = b.growthSteps;
        this.layersEvery = b.layersEvery;
    }

    /** @return the default configuration */
    public static GuardConfig ofDefaults() {
        return DEFAULTS;
    }

    /** @return a builder starting from the defaults */
    public static Builder custom() {
        return new Builder();
    }

    /**
     * A builder starting from another configuration.
     *
     * @param prototype the configuration to copy
     * @return a builder
     */
    public static Builder from(GuardConfig prototype) {
        return new Builder(prototype);
    }

    /** @return the policy */
    public Policy policy() {
        return policy;
    }

    /** @return the fixed clip threshold, or empty for the adaptive threshold ({@code clip.norm=auto}) */
    public OptionalDouble clipNorm() {
        return clipNorm == null ? OptionalDouble.empty() : OptionalDouble.of(clipNorm);
    }

    /** @return the JSONL event log path, or null for none */
    public Path log() {
        return log;
    }

    /** @return z threshold of the gradient-norm spike detector */
    public double spikeZ() {
        return spikeZ;
    }

    /** @return minimum norm ratio to the typical norm for a spike */
    public double spikeRatio() {
        return spikeRatio;
    }

    /** @return EMA decay of the norm statistics */
    public double spikeAlpha() {
        return spikeAlpha;
    }

    /** @return warm-up steps before spikes are judged */
    public int spikeWarmup() {
        return spikeWarmup;
    }

    /** @return z threshold of the loss spike detector */
    public double lossZ() {
        return lossZ;
    }

    /** @return minimum loss ratio to the typical loss for a loss spike */
    public double lossRatio() {
        return lossRatio;
    }

    /** @return ratio to the typical norm or loss above which a batch is skipped */
    public double skipRatio() {
        return skipRatio;
    }

    /** @return consecutive outlier skips allowed before clipping instead */
    public int skipMax() {
        return skipMax;
    }

    /** @return consecutive non-finite steps tolerated before halting */
    public int nonfiniteMax() {
        return nonfiniteMax;
    }

    /** @return consecutive clipped steps that count as runaway growth */
    public int growthSteps() {
        return growthSteps;
    }

    /** @return interval of per-layer norm records (0: only at events) */
    public int layersEvery() {
        return layersEvery;
    }

    /** @return every key with its effective value as text, sorted by key */
    public Map<String, String> asMap() {
        Map<String, String> m = new TreeMap<>();
        m.put(ConfigKeys.POLICY, policy.key());
        m.put(ConfigKeys.CLIP_NORM, clipNorm == null ? "auto" : Double.toString(clipNorm));
        m.put(ConfigKeys.LOG, log == null ? "" : log.toString());
        m.put(ConfigKeys.SPIKE_Z, Double.toString(spikeZ));
        m.put(ConfigKeys.SPIKE_RATIO, Double.toString(spikeRatio));
        m.put(ConfigKeys.SPIKE_ALPHA, Double.toString(spikeAlpha));
        m.put(ConfigKeys.SPIKE_WARMUP, Integer.toString(spikeWarmup));
        m.put(ConfigKeys.LOSS_Z, Double.toString(lossZ));
        m.put(ConfigKeys.LOSS_RATIO, Double.toString(lossRatio));
        m.put(ConfigKeys.SKIP_RATIO, Double.toString(skipRatio));
        m.put(ConfigKeys.SKIP_MAX, Integer.toString(skipMax));
        m.put(ConfigKeys.NONFINITE_MAX, Integer.toString(nonfiniteMax));
        m.put(ConfigKeys.GROWTH_STEPS, Integer.toString(growthSteps));
        m.put(ConfigKeys.LAYERS_EVERY, Integer.toString(layersEvery));
        return m;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("GuardConfig{");
        asMap().forEach((k, v) -> sb.append(sb.length() > 12 ? ", " : "").append(k).append('=').append(v));
        return sb.append('}').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GuardConfig other && asMap().equals(other.asMap());
    }

    @Override
    public int hashCode() {
        return asMap().hashCode();
    }

    /** Builds a {@link GuardConfig}. Each setter checks its own argument; {@link #build()} checks rules across keys. */
    public static final class Builder {

        private static final String BUILDER = "builder";

        private Policy policy = DEFAULT_POLICY;
        private Double clipNorm;
        private Path log;
        private double spikeZ = DEFAULT_SPIKE_Z;
        private double spikeRatio = DEFAULT_SPIKE_RATIO;
        private double spikeAlpha = DEFAULT_SPIKE_ALPHA;
        private int spikeWarmup = DEFAULT_SPIKE_WARMUP;
        private double lossZ = DEFAULT_LOSS_Z;
        private double lossRatio = DEFAULT_LOSS_RATIO;
        private double skipRatio = DEFAULT_SKIP_RATIO;
        private int skipMax = DEFAULT_SKIP_MAX;
        private int nonfiniteMax = DEFAULT_NONFINITE_MAX;
        private int growthSteps = DEFAULT_GROWTH_STEPS;
        private int layersEvery = DEFAULT_LAYERS_EVERY;

        Builder() {}

        Builder(GuardConfig c) {
            policy = c.policy;
            clipNorm = c.clipNorm;
            log = c.log;
            spikeZ = c.spikeZ;
            spikeRatio = c.spikeRatio;
            spikeAlpha = c.spikeAlpha;
            spikeWarmup = c.spikeWarmup;
            lossZ = c.lossZ;
            lossRatio = c.lossRatio;
            skipRatio = c.skipRatio;
            skipMax = c.skipMax;
            nonfiniteMax = c.nonfiniteMax;
            growthSteps = c.growthSteps;
            layersEvery = c.layersEvery;
        }

        /**
         * Sets one key from text, as read from an agent argument, a system property or an environment
         * variable.
         *
         * @param key the key, e.g. {@code clip.norm}
         * @param value the value as text
         * @param source where the value came from, for error messages
         * @return this builder
         * @throws InvalidConfigException for an unknown key or a value out of range
         */
        public Builder set(String key, String value, String source) {
            ConfigKeys.apply(this, key.trim(), value == null ? "" : value.trim(), source);
            return this;
        }

        /**
         * @param policy the policy
         * @return this builder
         */
        public Builder policy(Policy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * A fixed global-norm clip threshold.
         *
         * @param maxNorm a positive, finite norm
         * @return this builder
         */
        public Builder clipNorm(double maxNorm) {
            return clipNorm(maxNorm, BUILDER);
        }

        Builder clipNorm(double maxNorm, String source) {
            ConfigKeys.checkPositive(ConfigKeys.CLIP_NORM, maxNorm, "a positive finite number or 'auto'", source);
            this.clipNorm = maxNorm;
            return this;
        }

        /**
         * The adaptive clip threshold, learnt from the norm history (the default).
         *
         * @return this builder
         */
        public Builder clipNormAuto() {
            this.clipNorm = null;
            return this;
        }

        /**
         * @param path the JSONL event log path, or null for none
         * @return this builder
         */
        public Builder log(Path path) {
            this.log = path;
            return this;
        }

        /**
         * @param z z threshold of the norm spike detector, > 0
         * @return this builder
         */
        public Builder spikeZ(double z) {
            return spikeZ(z, BUILDER);
        }

        Builder spikeZ(double z, String source) {
            ConfigKeys.checkPositive(ConfigKeys.SPIKE_Z, z, "a positive finite number", source);
            this.spikeZ = z;
            return this;
        }

        /**
         * @param ratio minimum ratio to the typical norm for a spike, > 1
         * @return this builder
         */
        public Builder spikeRatio(double ratio) {
            return spikeRatio(ratio, BUILDER);
        }

        Builder spikeRatio(double ratio, String source) {
            ConfigKeys.checkAbove(ConfigKeys.SPIKE_RATIO, ratio, 1.0, source);
            this.spikeRatio = ratio;
            return this;
        }

        /**
         * @param alpha EMA decay of the norm statistics, in (0, 1)
         * @return this builder
         */
        public Builder spikeAlpha(double alpha) {
            return spikeAlpha(alpha, BUILDER);
        }

        Builder spikeAlpha(double alpha, String source) {
            ConfigKeys.checkOpenUnit(ConfigKeys.SPIKE_ALPHA, alpha, source);
            this.spikeAlpha = alpha;
            return this;
        }

        /**
         * @param steps warm-up steps, >= 2
         * @return this builder
         */
        public Builder spikeWarmup(int steps) {
            return spikeWarmup(steps, BUILDER);
        }

        Builder spikeWarmup(int steps, String source) {
            ConfigKeys.checkAtLeast(ConfigKeys.SPIKE_WARMUP, steps, 2, source);
            this.spikeWarmup = steps;
            return this;
        }

        /**
         * @param z z threshold of the loss spike detector, > 0
         * @return this builder
         */
        public Builder lossZ(double z) {
            return lossZ(z, BUILDER);
        }

        Builder lossZ(double z, String source) {
            ConfigKeys.checkPositive(ConfigKeys.LOSS_Z, z, "a positive finite number", source);
            this.lossZ = z;
            return this;
        }

        /**
         * @param ratio minimum ratio to the typical loss for a loss spike, > 1
         * @return this builder
         */
        public Builder lossRatio(double ratio) {
            return lossRatio(ratio, BUILDER);
        }

        Builder lossRatio(double ratio, String source) {
            ConfigKeys.checkAbove(ConfigKeys.LOSS_RATIO, ratio, 1.0, source);
            this.lossRatio = ratio;
            return this;
        }

        /**
         * @param ratio ratio to the typical norm or loss above which a batch is skipped; must exceed
         *     {@code spike.ratio}
         * @return this builder
         */
        public Builder skipRatio(double ratio) {
            return skipRatio(ratio, BUILDER);
        }

        Builder skipRatio(double ratio, String source) {
            ConfigKeys.checkAbove(ConfigKeys.SKIP_RATIO, ratio, 1.0, source);
            this.skipRatio = ratio;
            return this;
        }

        /**
         * @param max consecutive outlier skips before clipping instead, >= 0 (0 disables skipping)
         * @return this builder
         */
        public Builder skipMax(int max) {
            return skipMax(max, BUILDER);
        }

        Builder skipMax(int max, String source) {
            ConfigKeys.checkAtLeast(ConfigKeys.SKIP_MAX, max, 0, source);
            this.skipMax = max;
            return this;
        }

        /**
         * @param max consecutive non-finite steps tolerated before halting, >= 1
         * @return this builder
         */
        public Builder nonfiniteMax(int max) {
            return nonfiniteMax(max, BUILDER);
        }

        Builder nonfiniteMax(int max, String source) {
            ConfigKeys.checkAtLeast(ConfigKeys.NONFINITE_MAX, max, 1, source);
            this.nonfiniteMax = max;
            return this;
        }

        /**
         * @param steps consecutive clipped steps that count as runaway growth, >= 1
         * @return this builder
         */
        public Builder growthSteps(int steps) {
            return growthSteps(steps, BUILDER);
        }

        Builder growthSteps(int steps, String source) {
            ConfigKeys.checkAtLeast(ConfigKeys.GROWTH_STEPS, steps, 1, source);
            this.growthSteps = steps;
            return this;
        }

        /**
         * @param every interval of per-layer norm records, >= 0 (0: only at events)
         * @return this builder
         */
        public Builder layersEvery(int every) {
            return layersEvery(every, BUILDER);
        }

        Builder layersEvery(int every, String source) {
            ConfigKeys.checkAtLeast(ConfigKeys.LAYERS_EVERY, every, 0, source);
            this.layersEvery = every;
            return this;
        }

        /**
         * Checks the rules across keys and builds the configuration.
         *
         * @return the configuration
         * @throws InvalidConfigException when keys contradict each other
         */
        public GuardConfig build() {
            if (skipRatio <= spikeRatio) {
                throw new InvalidConfigException(ConfigKeys.SKIP_RATIO, Double.toString(skipRatio),
                        "greater than spike.ratio (" + spikeRatio + "): a batch is skipped only when it is"
                                + " further out than a clipped spike", "builder, checked against spike.ratio");
            }
            return new GuardConfig(this);
        }
    }
}
