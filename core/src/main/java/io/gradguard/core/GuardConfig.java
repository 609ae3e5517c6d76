package io.gradguard.core;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * The immutable configuration of a guard. Build it with {@link #custom()}, start from {@link #ofDefaults()} or
 * {@link #from(GuardConfig)}, or read it from text, system properties and environment variables with
 * {@link ConfigSources}. Every key, its default and its accepted range is listed in
 * {@link ConfigKeys#descriptions()}.
 *
 * <p>Behind this one facade the settings are grouped by concern, each a small immutable value that declares
 * its keys once (name, range, default, meaning, parser) and checks them: what counts as trouble
 * ({@code DetectionSettings}), how the guard repairs a run ({@code RecoverySettings}) and what it writes down
 * ({@code RecordingSettings}); the policy, what the guard may do at all, is the facade's own. Users keep one flat
 * {@link Builder} and one set of accessors: a key is what they set, alike from code, agent arguments and the
 * environment, and a builder per concern would make every call site name a concern that the key's name does
 * not. The builder inherits each concern's setters (a sealed chain of package-private classes), so each
 * concern's file holds everything about its keys and this one stays a facade that delegates.
 */
public final class GuardConfig {

    /** Default policy. */
    public static final Policy DEFAULT_POLICY = Policy.AUTO;
    /** Default of {@link #spikeZ()}. */
    public static final double DEFAULT_SPIKE_Z = DetectionSettings.DEFAULT_SPIKE_Z;
    /** Default of {@link #spikeRatio()}. */
    public static final double DEFAULT_SPIKE_RATIO = DetectionSettings.DEFAULT_SPIKE_RATIO;
    /** Default of {@link #spikeCalm()}. */
    public static final double DEFAULT_SPIKE_CALM = DetectionSettings.DEFAULT_SPIKE_CALM;
    /** Default of {@link #spikeAlpha()}. */
    public static final double DEFAULT_SPIKE_ALPHA = DetectionSettings.DEFAULT_SPIKE_ALPHA;
    /** Default of {@link #spikeWarmup()}. */
    public static final int DEFAULT_SPIKE_WARMUP = DetectionSettings.DEFAULT_SPIKE_WARMUP;
    /** Default of {@link #lossZ()}. */
    public static final double DEFAULT_LOSS_Z = DetectionSettings.DEFAULT_LOSS_Z;
    /** Default of {@link #lossRatio()}. */
    public static final double DEFAULT_LOSS_RATIO = DetectionSettings.DEFAULT_LOSS_RATIO;
    /** Default of {@link #lossPatience()}. */
    public static final int DEFAULT_LOSS_PATIENCE = DetectionSettings.DEFAULT_LOSS_PATIENCE;
    /** Default of {@link #skipRatio()}. */
    public static final double DEFAULT_SKIP_RATIO = DetectionSettings.DEFAULT_SKIP_RATIO;
    /** Default of {@link #skipMax()}. */
    public static final int DEFAULT_SKIP_MAX = DetectionSettings.DEFAULT_SKIP_MAX;
    /** Default of {@link #nonfiniteMax()}. */
    public static final int DEFAULT_NONFINITE_MAX = DetectionSettings.DEFAULT_NONFINITE_MAX;
    /** Default of {@link #growthSteps()}. */
    public static final int DEFAULT_GROWTH_STEPS = DetectionSettings.DEFAULT_GROWTH_STEPS;
    /** Default of {@link #recoveryClip()}: chosen on the recovery benchmark (0, 1, 1.5, 2, 3 measured). */
    public static final double DEFAULT_RECOVERY_CLIP = RecoverySettings.DEFAULT_RECOVERY_CLIP;
    /** Default of {@link #recoveryPercentile()}. */
    public static final double DEFAULT_RECOVERY_PERCENTILE = RecoverySettings.DEFAULT_RECOVERY_PERCENTILE;
    /** Default of {@link #regressRatio()}. */
    public static final double DEFAULT_REGRESS_RATIO = DetectionSettings.DEFAULT_REGRESS_RATIO;
    /** Default of {@link #slideRatio()}. */
    public static final double DEFAULT_SLIDE_RATIO = DetectionSettings.DEFAULT_SLIDE_RATIO;
    /** Default of {@link #collapseDrop()}. */
    public static final double DEFAULT_COLLAPSE_DROP = DetectionSettings.DEFAULT_COLLAPSE_DROP;
    /** Default of {@link #collapseQuiet()}. */
    public static final double DEFAULT_COLLAPSE_QUIET = DetectionSettings.DEFAULT_COLLAPSE_QUIET;
    /** Default of {@link #deadShare()}. */
    public static final double DEFAULT_DEAD_SHARE = DetectionSettings.DEFAULT_DEAD_SHARE;
    /** Default of {@link #foldRate()}. */
    public static final double DEFAULT_FOLD_RATE = RecoverySettings.DEFAULT_FOLD_RATE;
    /** Default of {@link #stallSteps()}. */
    public static final int DEFAULT_STALL_STEPS = RecoverySettings.DEFAULT_STALL_STEPS;
    /** Default of {@link #riseRatio()}. */
    public static final double DEFAULT_RISE_RATIO = DetectionSettings.DEFAULT_RISE_RATIO;
    /** Default of {@link #layersEvery()}. */
    public static final int DEFAULT_LAYERS_EVERY = RecordingSettings.DEFAULT_LAYERS_EVERY;
    /** Default of {@link #snapshotEvery()}. */
    public static final int DEFAULT_SNAPSHOT_EVERY = RecoverySettings.DEFAULT_SNAPSHOT_EVERY;
    /** Default of {@link #rollbackCut()}. */
    public static final double DEFAULT_ROLLBACK_CUT = RecoverySettings.DEFAULT_ROLLBACK_CUT;
    /** Default of {@link #rollbackMax()}. */
    public static final int DEFAULT_ROLLBACK_MAX = RecoverySettings.DEFAULT_ROLLBACK_MAX;
    /** Default of {@link #rollbackSkip()}. */
    public static final int DEFAULT_ROLLBACK_SKIP = RecoverySettings.DEFAULT_ROLLBACK_SKIP;
    /** Default of {@link #rewarmSteps()}. */
    public static final int DEFAULT_REWARM_STEPS = RecoverySettings.DEFAULT_REWARM_STEPS;
    /** Default of {@link #rewarmTarget()}. */
    public static final double DEFAULT_REWARM_TARGET = RecoverySettings.DEFAULT_REWARM_TARGET;
    /** Default of {@link #lrFloor()}. */
    public static final double DEFAULT_LR_FLOOR = RecoverySettings.DEFAULT_LR_FLOOR;

    private static final GuardConfig DEFAULTS = new Builder().build();

    private final Policy policy;
    // package-private for the concerns' setters, which copy them in from(GuardConfig)
    final DetectionSettings detection;
    final RecoverySettings recovery;
    final RecordingSettings recording;

    private GuardConfig(Builder b) {
        this.policy = b.policy;
        this.detection = b.detection();
        this.recovery = b.recovery();
        this.recording = b.recording();
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
        Double v = recovery.clipNorm();
        return v == null ? OptionalDouble.empty() : OptionalDouble.of(v);
    }

    /** @return the JSONL event log path, or null for none */
    public Path log() {
        return recording.log();
    }

    /** @return where snapshots are kept */
    public SnapshotLocation snapshotLocation() {
        return recovery.snapshotLocation();
    }

    /** @return z threshold of the gradient-norm spike detector (in log-norm standard deviations) */
    public double spikeZ() {
        return detection.spikeZ();
    }

    /** @return minimum ratio of a spike's norm to the typical norm */
    public double spikeRatio() {
        return detection.spikeRatio();
    }

    /**
     * The spike floor of a calm run: until the run first shows instability (a clipped spike, a loss spike, a skipped
     * batch, a non-finite step, a rule's rollback), a norm counts as a spike only from {@code max(spikeCalm,
     * spikeRatio)} times the typical norm, and is then clipped down to {@code spikeRatio} times it; from then on,
     * {@link #spikeRatio()} alone. A healthy run's rare lone outlier between the two is left alone; an exploding run's
     * first spike is far above both. At or below {@code spikeRatio}: off.
     *
     * @return minimum ratio of a spike's norm to the typical norm while the run is calm
     */
    public double spikeCalm() {
        return detection.spikeCalm();
    }

    /** @return EMA decay of the norm and loss statistics (~50-step memory) */
    public double spikeAlpha() {
        return detection.spikeAlpha();
    }

    /** @return steps that only feed the statistics before spikes are judged */
    public int spikeWarmup() {
        return detection.spikeWarmup();
    }

    /** @return z threshold of the loss spike detector */
    public double lossZ() {
        return detection.lossZ();
    }

    /** @return minimum ratio of a spiking loss to the typical loss */
    public double lossRatio() {
        return detection.lossRatio();
    }

    /** @return consecutive loss spikes before a rollback */
    public int lossPatience() {
        return detection.lossPatience();
    }

    /** @return ratio to the typical norm (or loss) above which a batch is skipped as an outlier */
    public double skipRatio() {
        return detection.skipRatio();
    }

    /** @return consecutive outlier skips before the guard rolls back (or clips, without a snapshot) */
    public int skipMax() {
        return detection.skipMax();
    }

    /** @return consecutive non-finite steps before the guard rolls back (or halts, without a snapshot) */
    public int nonfiniteMax() {
        return detection.nonfiniteMax();
    }

    /** @return consecutive clipped spikes that count as runaway growth (then: rollback) */
    public int growthSteps() {
        return detection.growthSteps();
    }

    /**
     * After the first rollback the run is known to be fragile: the adaptive clip threshold is then at most
     * this many times the typical (EMA) gradient norm, for the rest of the run. 0 turns it off. Healthy
     * runs never roll back, so they are untouched.
     *
     * @return the recovery clip ratio, 0 or > 1
     */
    public double recoveryClip() {
        return recovery.recoveryClip();
    }

    /**
     * After the first rollback the run has shown trouble: from then on every step's gradients are capped at this
     * percentile of the global norms seen since that rollback (the most recent 1000), AutoClip's rule (Seetharaman
     * et al., 2020), before the guard judges the step. The guard then sees the capped gradients, as if the run had
     * produced them: a capped step is no spike, the fold ({@code fold.rate}) does not count it, and it may be
     * healthy (re-warm, snapshot). 0 turns it off. Healthy runs never roll back, so they are untouched.
     *
     * @return the percentile, 0 (off) or in (0, 100)
     */
    public double recoveryPercentile() {
        return recovery.recoveryPercentile();
    }

    /** @return a smoothed loss this many times the best smoothed loss the run reached (floored at 5% of its first loss) is trouble (then: rollback); 0 turns the rule off */
    public double regressRatio() {
        return detection.regressRatio();
    }

    /** @return a smoothed loss that stays above this many times the lowest smoothed loss of the last 500 applied steps (and at least 6 of its standard deviations above it) for 50 applied steps in a row is trouble (then: rollback with a cut); 0 turns the rule off */
    public double slideRatio() {
        return detection.slideRatio();
    }

    /** @return after a sign of trouble, a gradient norm this many times below its level in the first steps, with a loss that stopped improving for 20 steps, is a collapse (then: rollback); 0 turns the rule off */
    public double collapseDrop() {
        return detection.collapseDrop();
    }

    /** @return without a prior sign of trouble, a gradient norm this many times below its level in the first steps, with a stalled loss, is a collapse; 0 turns that half of the rule off */
    public double collapseQuiet() {
        return detection.collapseQuiet();
    }

    /** @return when the parameters whose gradients fell to zero (at most 1e-4 of their level in the first 10 steps) hold this share of the weights for 20 steps, and the loss is not solved, the run collapsed (then: rollback with a cut); 0 turns the rule off */
    public double deadShare() {
        return detection.deadShare();
    }

    /** @return when this share of the last 50 applied steps was clipped, the learning-rate scale is cut (rollback.cut) instead of clipping on; 0 turns it off */
    public double foldRate() {
        return recovery.foldRate();
    }

    /** @return after the guard cut the learning rate, blocks of this many applied steps whose mean loss stops improving (two in a row) halve the scale; 0: off */
    public int stallSteps() {
        return recovery.stallSteps();
    }

    /** @return a loss this many times the loss of the run's first step is trouble (then: rollback); 0 turns the rule off */
    public double riseRatio() {
        return detection.riseRatio();
    }

    /** @return steps between per-layer norm records (0: only at events) */
    public int layersEvery() {
        return recording.layersEvery();
    }

    /** @return steps between healthy snapshots (0: no snapshots, no rollback) */
    public int snapshotEvery() {
        return recovery.snapshotEvery();
    }

    /** @return factor the learning-rate scale is multiplied by at a rollback */
    public double rollbackCut() {
        return recovery.rollbackCut();
    }

    /** @return rollbacks without healthy progress between them before the budget is spent (see {@link #haltWhenSpent()}) */
    public int rollbackMax() {
        return recovery.rollbackMax();
    }

    /**
     * What happens when the rollback budget is spent ({@code rollback.max} rollbacks without healthy progress, or a
     * cut that would go below {@code lr.floor}). False (the default, {@code rollback.spent=settle}): the guard
     * restores the last healthy snapshot once more, holds the learning-rate scale at the lowest it reached (not
     * below the floor), and trains on, acting from then on only on what it can act on in the step (non-finite
     * values, outliers, clipping); a run whose gradients stay non-finite still halts. True
     * ({@code rollback.spent=halt}): the run is halted there.
     *
     * @return true when a spent budget halts the run
     */
    public boolean haltWhenSpent() {
        return recovery.haltWhenSpent();
    }

    /** @return batches skipped right after a rollback */
    public int rollbackSkip() {
        return recovery.rollbackSkip();
    }

    /** @return healthy steps over which the cut learning-rate scale re-warms */
    public int rewarmSteps() {
        return recovery.rewarmSteps();
    }

    /** @return re-warm up to this fraction of the lowest scale that exploded */
    public double rewarmTarget() {
        return recovery.rewarmTarget();
    }

    /** @return the budget is spent when a cut would take the learning-rate scale below this (see {@link #haltWhenSpent()}) */
    public double lrFloor() {
        return recovery.lrFloor();
    }

    /** @return every key with its effective value as text, sorted by key */
    public Map<String, String> asMap() {
        Map<String, String> m = new TreeMap<>();
        for (ConfigKey k : ConfigKeys.listed()) {
            m.put(k.key(), k.read(this));
        }
        return m;
    }

    /** @return {@code GuardConfig{key=value, ...}}, every key sorted */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        asMap().forEach((k, v) -> sb.append(sb.length() > 0 ? ", " : "").append(k).append('=').append(v));
        return "GuardConfig{" + sb + '}';
    }

    /** @return whether {@code o} is a configuration with the same value for every key */
    @Override
    public boolean equals(Object o) {
        return o instanceof GuardConfig other && asMap().equals(other.asMap());
    }

    /** @return the hash of {@link #asMap()} */
    @Override
    public int hashCode() {
        return asMap().hashCode();
    }

    /**
     * Builds a {@link GuardConfig}. Each setter checks its own argument and names the key, the value and
     * the accepted range; {@link #build()} checks the rules across keys. The setters of the detection,
     * recovery and recording keys are inherited from their concerns.
     */
    public static final class Builder extends RecordingSettings.Setters {

        private Policy policy = DEFAULT_POLICY;

        Builder() {}

        Builder(GuardConfig c) {
            super(c);
            policy = c.policy;
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
         * Checks the rules across keys and builds the configuration.
         *
         * @return the configuration
         * @throws InvalidConfigException when keys contradict each other
         */
        public GuardConfig build() {
            return new GuardConfig(this);
        }
    }
}
