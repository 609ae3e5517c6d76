package io.gradguard.core;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * The immutable configuration of a guard. Build it with {@link #custom()}, start from
 * {@link #ofDefaults()} or {@link #from(GuardConfig)}, or read it from text, system properties and
 * environment variables with {@link ConfigSources}. Every key, its default and its accepted range is
 * listed in {@link ConfigKeys#descriptions()}.
 */
public final class GuardConfig {

    /** Default policy. */
    public static final Policy DEFAULT_POLICY = Policy.AUTO;
    /** Default: z threshold of the gradient-norm spike detector (in log-norm standard deviations). */
    public static final double DEFAULT_SPIKE_Z = 6.0;
    /** Default: minimum ratio of a spike's norm to the typical norm. */
    public static final double DEFAULT_SPIKE_RATIO = 10.0;
    /** Default: EMA decay of the norm and loss statistics (~50-step memory). */
    public static final double DEFAULT_SPIKE_ALPHA = 0.98;
    /** Default: steps that only feed the statistics before spikes are judged. */
    public static final int DEFAULT_SPIKE_WARMUP = 20;
    /** Default: z threshold of the loss spike detector. */
    public static final double DEFAULT_LOSS_Z = 6.0;
    /** Default: minimum ratio of a spiking loss to the typical loss. */
    public static final double DEFAULT_LOSS_RATIO = 3.0;
    /** Default: consecutive loss spikes before a rollback. */
    public static final int DEFAULT_LOSS_PATIENCE = 3;
    /** Default: ratio to the typical norm (or loss) above which a batch is skipped as an outlier. */
    public static final double DEFAULT_SKIP_RATIO = 50.0;
    /** Default: consecutive outlier skips before the guard rolls back (or clips, without a snapshot). */
    public static final int DEFAULT_SKIP_MAX = 3;
    /** Default: consecutive non-finite steps before the guard rolls back (or halts, without a snapshot). */
    public static final int DEFAULT_NONFINITE_MAX = 3;
    /** Default: consecutive clipped spikes that count as runaway growth (then: rollback). */
    public static final int DEFAULT_GROWTH_STEPS = 20;
    /** Default {@code recovery.clip}: chosen on the recovery benchmark (0, 1, 1.5, 2, 3 measured). */
    public static final double DEFAULT_RECOVERY_CLIP = 3.0;
    /** Default: a smoothed loss this many times the best smoothed loss the run reached (floored at 5% of its first loss) is trouble (then: rollback); 0 turns the rule off. */
    public static final double DEFAULT_REGRESS_RATIO = 2.5;
    /** Default: after a sign of trouble, a gradient norm this many times below its level in the first steps, with a loss that stopped improving for 20 steps, is a collapse (then: rollback); 0 turns the rule off. */
    public static final double DEFAULT_COLLAPSE_DROP = 30.0;
    /** Default: without a prior sign of trouble, a gradient norm this many times below its level in the first steps, with a stalled loss, is a collapse (then: rollback); 0 turns that half of the rule off. */
    public static final double DEFAULT_COLLAPSE_QUIET = 300.0;
    /** Default: when this share of the last 50 applied steps was clipped, the learning-rate scale is cut (rollback.cut) instead of clipping on; 0 turns it off. */
    public static final double DEFAULT_FOLD_RATE = 0.3;
    /** Default: after the guard cut the learning rate, blocks of this many applied steps whose mean loss stops improving (two in a row) halve the scale; 0 turns it off. */
    public static final int DEFAULT_STALL_STEPS = 0;
    /** Default: a loss this many times the loss of the run's first step is trouble (then: rollback); 0 turns the rule off. */
    public static final double DEFAULT_RISE_RATIO = 2.5;
    /** Default: steps between per-layer norm records (0: only at events). */
    public static final int DEFAULT_LAYERS_EVERY = 100;
    /** Default: steps between healthy snapshots (0: no snapshots, no rollback). */
    public static final int DEFAULT_SNAPSHOT_EVERY = 50;
    /** Default: factor the learning-rate scale is multiplied by at a rollback. */
    public static final double DEFAULT_ROLLBACK_CUT = 0.3;
    /** Default: rollbacks without healthy progress between them before the run is halted. */
    public static final int DEFAULT_ROLLBACK_MAX = 10;
    /** Default: batches skipped right after a rollback. */
    public static final int DEFAULT_ROLLBACK_SKIP = 0;
    /** Default: healthy steps over which the cut learning-rate scale re-warms. */
    public static final int DEFAULT_REWARM_STEPS = 100;
    /** Default: re-warm up to this fraction of the lowest scale that exploded. */
    public static final double DEFAULT_REWARM_TARGET = 0.4;
    /** Default: the run is halted when the learning-rate scale would fall below this. */
    public static final double DEFAULT_LR_FLOOR = 0.001;

    private static final GuardConfig DEFAULTS = new Builder().build();

    private final Policy policy;
    private final Double clipNorm;
    private final Path log;
    private final SnapshotLocation snapshotLocation;
    private final double spikeZ;
    private final double spikeRatio;
    private final double spikeAlpha;
    private final int spikeWarmup;
    private final double lossZ;
    private final double lossRatio;
    private final int lossPatience;
    private final double skipRatio;
    private final int skipMax;
    private final int nonfiniteMax;
    private final int growthSteps;
    private final double recoveryClip;
    private final double regressRatio;
    private final double collapseDrop;
    private final double collapseQuiet;
    private final double foldRate;
    private final int stallSteps;
    private final double riseRatio;
    private final int layersEvery;
    private final int snapshotEvery;
    private final double rollbackCut;
    private final int rollbackMax;
    private final int rollbackSkip;
    private final int rewarmSteps;
    private final double rewarmTarget;
    private final double lrFloor;

    private GuardConfig(Builder b) {
        this.policy = b.policy;
        this.clipNorm = b.clipNorm;
        this.log = b.log;
        this.snapshotLocation = b.snapshotLocation;
        this.spikeZ = b.spikeZ;
        this.spikeRatio = b.spikeRatio;
        this.spikeAlpha = b.spikeAlpha;
        this.spikeWarmup = b.spikeWarmup;
        this.lossZ = b.lossZ;
        this.lossRatio = b.lossRatio;
        this.lossPatience = b.lossPatience;
        this.skipRatio = b.skipRatio;
        this.skipMax = b.skipMax;
        this.nonfiniteMax = b.nonfiniteMax;
        this.growthSteps = b.growthSteps;
        this.recoveryClip = b.recoveryClip;
        this.regressRatio = b.regressRatio;
        this.collapseDrop = b.collapseDrop;
        this.collapseQuiet = b.collapseQuiet;
        this.foldRate = b.foldRate;
        this.stallSteps = b.stallSteps;
        this.riseRatio = b.riseRatio;
        this.layersEvery = b.layersEvery;
        this.snapshotEvery = b.snapshotEvery;
        this.rollbackCut = b.rollbackCut;
        this.rollbackMax = b.rollbackMax;
        this.rollbackSkip = b.rollbackSkip;
        this.rewarmSteps = b.rewarmSteps;
        this.rewarmTarget = b.rewarmTarget;
        this.lrFloor = b.lrFloor;
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

    /** @return where snapshots are kept */
    public SnapshotLocation snapshotLocation() {
        return snapshotLocation;
    }

    /** @return z threshold of the gradient-norm spike detector (in log-norm standard deviations) */
    public double spikeZ() {
        return spikeZ;
    }

    /** @return minimum ratio of a spike's norm to the typical norm */
    public double spikeRatio() {
        return spikeRatio;
    }

    /** @return EMA decay of the norm and loss statistics (~50-step memory) */
    public double spikeAlpha() {
        return spikeAlpha;
    }

    /** @return steps that only feed the statistics before spikes are judged */
    public int spikeWarmup() {
        return spikeWarmup;
    }

    /** @return z threshold of the loss spike detector */
    public double lossZ() {
        return lossZ;
    }

    /** @return minimum ratio of a spiking loss to the typical loss */
    public double lossRatio() {
        return lossRatio;
    }

    /** @return consecutive loss spikes before a rollback */
    public int lossPatience() {
        return lossPatience;
    }

    /** @return ratio to the typical norm (or loss) above which a batch is skipped as an outlier */
    public double skipRatio() {
        return skipRatio;
    }

    /** @return consecutive outlier skips before the guard rolls back (or clips, without a snapshot) */
    public int skipMax() {
        return skipMax;
    }

    /** @return consecutive non-finite steps before the guard rolls back (or halts, without a snapshot) */
    public int nonfiniteMax() {
        return nonfiniteMax;
    }

    /** @return consecutive clipped spikes that count as runaway growth (then: rollback) */
    public int growthSteps() {
        return growthSteps;
    }

    /**
     * After the first rollback the run is known to be fragile: the adaptive clip threshold is then at most
     * this many times the typical (EMA) gradient norm, for the rest of the run. 0 turns it off. Healthy
     * runs never roll back, so they are untouched.
     *
     * @return the recovery clip ratio, 0 or > 1
     */
    public double recoveryClip() {
        return recoveryClip;
    }

    /** @return a smoothed loss this many times the best smoothed loss the run reached (floored at 5% of its first loss) is trouble (then: rollback); 0 turns the rule off */
    public double regressRatio() {
        return regressRatio;
    }

    /** @return after a sign of trouble, a gradient norm this many times below its level in the first steps, with a loss that stopped improving for 20 steps, is a collapse (then: rollback); 0 turns the rule off */
    public double collapseDrop() {
        return collapseDrop;
    }

    /** @return without a prior sign of trouble, a gradient norm this many times below its level in the first steps, with a stalled loss, is a collapse; 0 turns that half of the rule off */
    public double collapseQuiet() {
        return collapseQuiet;
    }

    /** @return when this share of the last 50 applied steps was clipped, the learning-rate scale is cut (rollback.cut) instead of clipping on; 0 turns it off */
    public double foldRate() {
        return foldRate;
    }

    /** @return after the guard cut the learning rate, blocks of this many applied steps whose mean loss stops improving (two in a row) halve the scale; 0: off */
    public int stallSteps() {
        return stallSteps;
    }

    /** @return a loss this many times the loss of the run's first step is trouble (then: rollback); 0 turns the rule off */
    public double riseRatio() {
        return riseRatio;
    }

    /** @return steps between per-layer norm records (0: only at events) */
    public int layersEvery() {
        return layersEvery;
    }

    /** @return steps between healthy snapshots (0: no snapshots, no rollback) */
    public int snapshotEvery() {
        return snapshotEvery;
    }

    /** @return factor the learning-rate scale is multiplied by at a rollback */
    public double rollbackCut() {
        return rollbackCut;
    }

    /** @return rollbacks without healthy progress between them before the run is halted */
    public int rollbackMax() {
        return rollbackMax;
    }

    /** @return batches skipped right after a rollback */
    public int rollbackSkip() {
        return rollbackSkip;
    }

    /** @return healthy steps over which the cut learning-rate scale re-warms */
    public int rewarmSteps() {
        return rewarmSteps;
    }

    /** @return re-warm up to this fraction of the lowest scale that exploded */
    public double rewarmTarget() {
        return rewarmTarget;
    }

    /** @return the run is halted when the learning-rate scale would fall below this */
    public double lrFloor() {
        return lrFloor;
    }

    /** @return every key with its effective value as text, sorted by key */
    public Map<String, String> asMap() {
        Map<String, String> m = new TreeMap<>();
        m.put(ConfigKeys.POLICY, policy.key());
        m.put(ConfigKeys.CLIP_NORM, clipNorm == null ? "auto" : Double.toString(clipNorm));
        m.put(ConfigKeys.LOG, log == null ? "" : log.toString());
        m.put(ConfigKeys.SNAPSHOT_LOCATION, snapshotLocation.key());
        m.put(ConfigKeys.SPIKE_Z, Double.toString(spikeZ));
        m.put(ConfigKeys.SPIKE_RATIO, Double.toString(spikeRatio));
        m.put(ConfigKeys.SPIKE_ALPHA, Double.toString(spikeAlpha));
        m.put(ConfigKeys.SPIKE_WARMUP, Integer.toString(spikeWarmup));
        m.put(ConfigKeys.LOSS_Z, Double.toString(lossZ));
        m.put(ConfigKeys.LOSS_RATIO, Double.toString(lossRatio));
        m.put(ConfigKeys.LOSS_PATIENCE, Integer.toString(lossPatience));
        m.put(ConfigKeys.SKIP_RATIO, Double.toString(skipRatio));
        m.put(ConfigKeys.SKIP_MAX, Integer.toString(skipMax));
        m.put(ConfigKeys.NONFINITE_MAX, Integer.toString(nonfiniteMax));
        m.put(ConfigKeys.GROWTH_STEPS, Integer.toString(growthSteps));
        m.put(ConfigKeys.RECOVERY_CLIP, Double.toString(recoveryClip));
        m.put(ConfigKeys.REGRESS_RATIO, Double.toString(regressRatio));
        m.put(ConfigKeys.COLLAPSE_DROP, Double.toString(collapseDrop));
        m.put(ConfigKeys.COLLAPSE_QUIET, Double.toString(collapseQuiet));
        m.put(ConfigKeys.FOLD_RATE, Double.toString(foldRate));
        m.put(ConfigKeys.STALL_STEPS, Integer.toString(stallSteps));
        m.put(ConfigKeys.RISE_RATIO, Double.toString(riseRatio));
        m.put(ConfigKeys.LAYERS_EVERY, Integer.toString(layersEvery));
        m.put(ConfigKeys.SNAPSHOT_EVERY, Integer.toString(snapshotEvery));
        m.put(ConfigKeys.ROLLBACK_CUT, Double.toString(rollbackCut));
        m.put(ConfigKeys.ROLLBACK_MAX, Integer.toString(rollbackMax));
        m.put(ConfigKeys.ROLLBACK_SKIP, Integer.toString(rollbackSkip));
        m.put(ConfigKeys.REWARM_STEPS, Integer.toString(rewarmSteps));
        m.put(ConfigKeys.REWARM_TARGET, Double.toString(rewarmTarget));
        m.put(ConfigKeys.LR_FLOOR, Double.toString(lrFloor));
        return m;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        asMap().forEach((k, v) -> sb.append(sb.length() > 0 ? ", " : "").append(k).append('=').append(v));
        return "GuardConfig{" + sb + '}';
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GuardConfig other && asMap().equals(other.asMap());
    }

    @Override
    public int hashCode() {
        return asMap().hashCode();
    }

    /**
     * Builds a {@link GuardConfig}. Each setter checks its own argument and names the key, the value and
     * the accepted range; {@link #build()} checks the rules across keys.
     */
    public static final class Builder {

        private String source = "builder";
        private Policy policy = DEFAULT_POLICY;
        private Double clipNorm;
        private Path log;
        private SnapshotLocation snapshotLocation = SnapshotLocation.DEVICE;
        private double spikeZ = DEFAULT_SPIKE_Z;
        private double spikeRatio = DEFAULT_SPIKE_RATIO;
        private double spikeAlpha = DEFAULT_SPIKE_ALPHA;
        private int spikeWarmup = DEFAULT_SPIKE_WARMUP;
        private double lossZ = DEFAULT_LOSS_Z;
        private double lossRatio = DEFAULT_LOSS_RATIO;
        private int lossPatience = DEFAULT_LOSS_PATIENCE;
        private double skipRatio = DEFAULT_SKIP_RATIO;
        private int skipMax = DEFAULT_SKIP_MAX;
        private int nonfiniteMax = DEFAULT_NONFINITE_MAX;
        private int growthSteps = DEFAULT_GROWTH_STEPS;
        private double recoveryClip = DEFAULT_RECOVERY_CLIP;
        private double regressRatio = DEFAULT_REGRESS_RATIO;
        private double collapseDrop = DEFAULT_COLLAPSE_DROP;
        private double collapseQuiet = DEFAULT_COLLAPSE_QUIET;
        private double foldRate = DEFAULT_FOLD_RATE;
        private int stallSteps = DEFAULT_STALL_STEPS;
        private double riseRatio = DEFAULT_RISE_RATIO;
        private int layersEvery = DEFAULT_LAYERS_EVERY;
        private int snapshotEvery = DEFAULT_SNAPSHOT_EVERY;
        private double rollbackCut = DEFAULT_ROLLBACK_CUT;
        private int rollbackMax = DEFAULT_ROLLBACK_MAX;
        private int rollbackSkip = DEFAULT_ROLLBACK_SKIP;
        private int rewarmSteps = DEFAULT_REWARM_STEPS;
        private double rewarmTarget = DEFAULT_REWARM_TARGET;
        private double lrFloor = DEFAULT_LR_FLOOR;

        Builder() {}

        Builder(GuardConfig c) {
            policy = c.policy;
            clipNorm = c.clipNorm;
            log = c.log;
            snapshotLocation = c.snapshotLocation;
            spikeZ = c.spikeZ;
            spikeRatio = c.spikeRatio;
            spikeAlpha = c.spikeAlpha;
            spikeWarmup = c.spikeWarmup;
            lossZ = c.lossZ;
            lossRatio = c.lossRatio;
            lossPatience = c.lossPatience;
            skipRatio = c.skipRatio;
            skipMax = c.skipMax;
            nonfiniteMax = c.nonfiniteMax;
            growthSteps = c.growthSteps;
            recoveryClip = c.recoveryClip;
            regressRatio = c.regressRatio;
            collapseDrop = c.collapseDrop;
            collapseQuiet = c.collapseQuiet;
            foldRate = c.foldRate;
            stallSteps = c.stallSteps;
            riseRatio = c.riseRatio;
            layersEvery = c.layersEvery;
            snapshotEvery = c.snapshotEvery;
            rollbackCut = c.rollbackCut;
            rollbackMax = c.rollbackMax;
            rollbackSkip = c.rollbackSkip;
            rewarmSteps = c.rewarmSteps;
            rewarmTarget = c.rewarmTarget;
            lrFloor = c.lrFloor;
        }

        /**
         * Sets one key from text, as read from an agent argument, a system property or an environment
         * variable.
         *
         * @param key the key, e.g. {@code clip.norm}
         * @param value the value as text
         * @param from where the value came from, for error messages
         * @return this builder
         * @throws InvalidConfigException for an unknown key or a value out of range
         */
        public Builder set(String key, String value, String from) {
            String previous = this.source;
            this.source = from;
            try {
                ConfigKeys.apply(this, key.trim(), value == null ? "" : value.trim(), from);
            } finally {
                this.source = previous;
            }
            return this;
        }

        /**
         * @param v the policy
         * @return this builder
         */
        public Builder policy(Policy v) {
            this.policy = Objects.requireNonNull(v, "policy");
            return this;
        }

        /**
         * A fixed global-norm clip threshold.
         *
         * @param v a positive, finite norm
         * @return this builder
         */
        public Builder clipNorm(double v) {
            ConfigKeys.checkPositive(ConfigKeys.CLIP_NORM, v, "a positive finite number or 'auto'", source);
            this.clipNorm = v;
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
         * @param v the JSONL event log path, or null for none
         * @return this builder
         */
        public Builder log(Path v) {
            this.log = v;
            return this;
        }

        /**
         * @param v where snapshots are kept
         * @return this builder
         */
        public Builder snapshotLocation(SnapshotLocation v) {
            this.snapshotLocation = Objects.requireNonNull(v, "snapshotLocation");
            return this;
        }

        /**
         * @param v z threshold of the gradient-norm spike detector (in log-norm standard deviations), > 0
         * @return this builder
         */
        public Builder spikeZ(double v) {
            ConfigKeys.checkPositive(ConfigKeys.SPIKE_Z, v, "a positive finite number", source);
            this.spikeZ = v;
            return this;
        }

        /**
         * @param v minimum ratio of a spike's norm to the typical norm, > 1
         * @return this builder
         */
        public Builder spikeRatio(double v) {
            ConfigKeys.checkAbove(ConfigKeys.SPIKE_RATIO, v, 1.0, source);
            this.spikeRatio = v;
            return this;
        }

        /**
         * @param v EMA decay of the norm and loss statistics (~50-step memory), in (0, 1)
         * @return this builder
         */
        public Builder spikeAlpha(double v) {
            ConfigKeys.checkOpenUnit(ConfigKeys.SPIKE_ALPHA, v, source);
            this.spikeAlpha = v;
            return this;
        }

        /**
         * @param v steps that only feed the statistics before spikes are judged, >= 2
         * @return this builder
         */
        public Builder spikeWarmup(int v) {
            ConfigKeys.checkAtLeast(ConfigKeys.SPIKE_WARMUP, v, 2, source);
            this.spikeWarmup = v;
            return this;
        }

        /**
         * @param v z threshold of the loss spike detector, > 0
         * @return this builder
         */
        public Builder lossZ(double v) {
            ConfigKeys.checkPositive(ConfigKeys.LOSS_Z, v, "a positive finite number", source);
            this.lossZ = v;
            return this;
        }

        /**
         * @param v minimum ratio of a spiking loss to the typical loss, > 1
         * @return this builder
         */
        public Builder lossRatio(double v) {
            ConfigKeys.checkAbove(ConfigKeys.LOSS_RATIO, v, 1.0, source);
            this.lossRatio = v;
            return this;
        }

        /**
         * @param v consecutive loss spikes before a rollback, >= 1
         * @return this builder
         */
        public Builder lossPatience(int v) {
            ConfigKeys.checkAtLeast(ConfigKeys.LOSS_PATIENCE, v, 1, source);
            this.lossPatience = v;
            return this;
        }

        /**
         * @param v ratio to the typical norm (or loss) above which a batch is skipped as an outlier, > 1
         * @return this builder
         */
        public Builder skipRatio(double v) {
            ConfigKeys.checkAbove(ConfigKeys.SKIP_RATIO, v, 1.0, source);
            this.skipRatio = v;
            return this;
        }

        /**
         * @param v consecutive outlier skips before the guard rolls back (or clips, without a snapshot), >= 0
         * @return this builder
         */
        public Builder skipMax(int v) {
            ConfigKeys.checkAtLeast(ConfigKeys.SKIP_MAX, v, 0, source);
            this.skipMax = v;
            return this;
        }

        /**
         * @param v consecutive non-finite steps before the guard rolls back (or halts, without a snapshot), >= 1
         * @return this builder
         */
        public Builder nonfiniteMax(int v) {
            ConfigKeys.checkAtLeast(ConfigKeys.NONFINITE_MAX, v, 1, source);
            this.nonfiniteMax = v;
            return this;
        }

        /**
         * @param v consecutive clipped spikes that count as runaway growth (then: rollback), >= 1
         * @return this builder
         */
        public Builder growthSteps(int v) {
            ConfigKeys.checkAtLeast(ConfigKeys.GROWTH_STEPS, v, 1, source);
            this.growthSteps = v;
            return this;
        }

        /**
         * @param v a loss this many times the loss of the run's first step is trouble (then: rollback); 0 turns the rule off
         * @return this builder
         */
        public Builder riseRatio(double v) {
            if (v != 0) {
                ConfigKeys.checkAbove(ConfigKeys.RISE_RATIO, v, 1.0, source);
            }
            this.riseRatio = v;
            return this;
        }

        /**
         * @param v when this share of the last 50 applied steps was clipped, the learning-rate scale is cut (rollback.cut) instead of clipping on; 0 turns it off
         * @return this builder
         */
        public Builder foldRate(double v) {
            if (v != 0 && !(v > 0 && v <= 1)) {
                throw new InvalidConfigException(ConfigKeys.FOLD_RATE, Double.toString(v), "0 or a number in (0, 1]", source);
            }
            this.foldRate = v;
            return this;
        }

        /**
         * @param v after a sign of trouble, a gradient norm this many times below its level in the first steps, with a loss that stopped improving for 20 steps, is a collapse (then: rollback); 0 turns the rule off
         * @return this builder
         */
        public Builder collapseDrop(double v) {
            if (v != 0) {
                ConfigKeys.checkAbove(ConfigKeys.COLLAPSE_DROP, v, 1.0, source);
            }
            this.collapseDrop = v;
            return this;
        }

        /**
         * @param v without a prior sign of trouble, a gradient norm this many times below its level in the first steps, with a stalled loss, is a collapse; 0 turns that half of the rule off
         * @return this builder
         */
        public Builder collapseQuiet(double v) {
            if (v != 0) {
                ConfigKeys.checkAbove(ConfigKeys.COLLAPSE_QUIET, v, 1.0, source);
            }
            this.collapseQuiet = v;
            return this;
        }

        /**
         * @param v a smoothed loss this many times the best smoothed loss the run reached (floored at 5% of its first loss) is trouble (then: rollback); 0 turns the rule off
         * @return this builder
         */
        public Builder regressRatio(double v) {
            if (v != 0) {
                ConfigKeys.checkAbove(ConfigKeys.REGRESS_RATIO, v, 1.0, source);
            }
            this.regressRatio = v;
            return this;
        }

        /**
         * @param v after a rollback, clip at most at this many times the typical norm; 0 (off) or a finite
         *     number > 1
         * @return this builder
         */
        public Builder recoveryClip(double v) {
            if (v != 0) {
                ConfigKeys.checkAbove(ConfigKeys.RECOVERY_CLIP, v, 1.0, source);
            }
            this.recoveryClip = v;
            return this;
        }

        /**
         * @param v steps between per-layer norm records (0: only at events), >= 0
         * @return this builder
         */
        public Builder layersEvery(int v) {
            ConfigKeys.checkAtLeast(ConfigKeys.LAYERS_EVERY, v, 0, source);
            this.layersEvery = v;
            return this;
        }

        /**
         * @param v steps between healthy snapshots (0: no snapshots, no rollback), >= 0
         * @return this builder
         */
        public Builder snapshotEvery(int v) {
            ConfigKeys.checkAtLeast(ConfigKeys.SNAPSHOT_EVERY, v, 0, source);
            this.snapshotEvery = v;
            return this;
        }

        /**
         * @param v factor the learning-rate scale is multiplied by at a rollback, in (0, 1)
         * @return this builder
         */
        public Builder rollbackCut(double v) {
            ConfigKeys.checkOpenUnit(ConfigKeys.ROLLBACK_CUT, v, source);
            this.rollbackCut = v;
            return this;
        }

        /**
         * @param v rollbacks without healthy progress between them before the run is halted, >= 1
         * @return this builder
         */
        public Builder rollbackMax(int v) {
            ConfigKeys.checkAtLeast(ConfigKeys.ROLLBACK_MAX, v, 1, source);
            this.rollbackMax = v;
            return this;
        }

        /**
         * @param v batches skipped right after a rollback, >= 0
         * @return this builder
         */
        public Builder rollbackSkip(int v) {
            ConfigKeys.checkAtLeast(ConfigKeys.ROLLBACK_SKIP, v, 0, source);
            this.rollbackSkip = v;
            return this;
        }

        /**
         * @param v after the guard cut the learning rate, blocks of this many applied steps whose mean loss stops
         *     improving (two in a row) halve the scale, >= 0 (0: off)
         * @return this builder
         */
        public Builder stallSteps(int v) {
            ConfigKeys.checkAtLeast(ConfigKeys.STALL_STEPS, v, 0, source);
            this.stallSteps = v;
            return this;
        }

        /**
         * @param v healthy steps over which the cut learning-rate scale re-warms, >= 0
         * @return this builder
         */
        public Builder rewarmSteps(int v) {
            ConfigKeys.checkAtLeast(ConfigKeys.REWARM_STEPS, v, 0, source);
            this.rewarmSteps = v;
            return this;
        }

        /**
         * @param v re-warm up to this fraction of the lowest scale that exploded, in (0, 1)
         * @return this builder
         */
        public Builder rewarmTarget(double v) {
            ConfigKeys.checkOpenUnit(ConfigKeys.REWARM_TARGET, v, source);
            this.rewarmTarget = v;
            return this;
        }

        /**
         * @param v the run is halted when the learning-rate scale would fall below this, in (0, 1)
         * @return this builder
         */
        public Builder lrFloor(double v) {
            ConfigKeys.checkOpenUnit(ConfigKeys.LR_FLOOR, v, source);
            this.lrFloor = v;
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
                                + " further out than a clipped spike", source);
            }
            return new GuardConfig(this);
        }
    }
}
