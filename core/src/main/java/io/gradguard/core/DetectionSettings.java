package io.gradguard.core;

import java.util.List;

/**
 * What counts as trouble: the gradient-norm and loss spike detectors, the outlier skip, the non-finite and
 * growth limits, and the loss-level rules (rise, regress, collapse). Declares its keys, their defaults and
 * ranges once, and gives {@link GuardConfig.Builder} their setters ({@link Setters}). Each component is read
 * through the {@link GuardConfig} accessor of the same name, which says what it means.
 *
 * @param spikeZ see {@link GuardConfig#spikeZ()}
 * @param spikeRatio see {@link GuardConfig#spikeRatio()}
 * @param spikeAlpha see {@link GuardConfig#spikeAlpha()}
 * @param spikeWarmup see {@link GuardConfig#spikeWarmup()}
 * @param lossZ see {@link GuardConfig#lossZ()}
 * @param lossRatio see {@link GuardConfig#lossRatio()}
 * @param lossPatience see {@link GuardConfig#lossPatience()}
 * @param skipRatio see {@link GuardConfig#skipRatio()}
 * @param skipMax see {@link GuardConfig#skipMax()}
 * @param nonfiniteMax see {@link GuardConfig#nonfiniteMax()}
 * @param growthSteps see {@link GuardConfig#growthSteps()}
 * @param riseRatio see {@link GuardConfig#riseRatio()}
 * @param regressRatio see {@link GuardConfig#regressRatio()}
 * @param slideRatio see {@link GuardConfig#slideRatio()}
 * @param collapseDrop see {@link GuardConfig#collapseDrop()}
 * @param collapseQuiet see {@link GuardConfig#collapseQuiet()}
 * @param deadShare see {@link GuardConfig#deadShare()}
 * @param spikeCalm see {@link GuardConfig#spikeCalm()}
 */
record DetectionSettings(double spikeZ, double spikeRatio, double spikeAlpha, int spikeWarmup, double lossZ,
        double lossRatio, int lossPatience, double skipRatio, int skipMax, int nonfiniteMax, int growthSteps,
        double riseRatio, double regressRatio, double slideRatio, double collapseDrop, double collapseQuiet, double deadShare,
        double spikeCalm) {

    // The defaults; GuardConfig publishes each as DEFAULT_<KEY>.
    static final double DEFAULT_SPIKE_Z = 6.0;
    static final double DEFAULT_SPIKE_RATIO = 10.0;
    static final double DEFAULT_SPIKE_CALM = 12.0;
    static final double DEFAULT_SPIKE_ALPHA = 0.98;
    static final int DEFAULT_SPIKE_WARMUP = 20;
    static final double DEFAULT_LOSS_Z = 6.0;
    static final double DEFAULT_LOSS_RATIO = 3.0;
    static final int DEFAULT_LOSS_PATIENCE = 3;
    static final double DEFAULT_SKIP_RATIO = 50.0;
    static final int DEFAULT_SKIP_MAX = 3;
    static final int DEFAULT_NONFINITE_MAX = 3;
    static final int DEFAULT_GROWTH_STEPS = 20;
    static final double DEFAULT_RISE_RATIO = 2.5;
    static final double DEFAULT_REGRESS_RATIO = 2.5;
    static final double DEFAULT_SLIDE_RATIO = 1.4;
    static final double DEFAULT_COLLAPSE_DROP = 10.0;
    static final double DEFAULT_COLLAPSE_QUIET = 300.0;
    static final double DEFAULT_DEAD_SHARE = 0.9;

    static final ConfigKey SPIKE_Z = ConfigKey.real(ConfigKeys.SPIKE_Z, NumberRange.POSITIVE, DEFAULT_SPIKE_Z,
            "z threshold of the gradient-norm spike detector (in log-norm standard deviations)",
            GuardConfig.Builder::spikeZ, GuardConfig::spikeZ);
    static final ConfigKey SPIKE_RATIO = ConfigKey.real(ConfigKeys.SPIKE_RATIO, NumberRange.ABOVE_ONE,
            DEFAULT_SPIKE_RATIO, "minimum ratio of a spike's norm to the typical norm",
            GuardConfig.Builder::spikeRatio, GuardConfig::spikeRatio);
    static final ConfigKey SPIKE_CALM = ConfigKey.real(ConfigKeys.SPIKE_CALM, NumberRange.ABOVE_ONE,
            DEFAULT_SPIKE_CALM, "minimum ratio of a spike's norm to the typical norm until the run first shows"
                    + " instability (a clipped spike, a loss spike, a skipped batch, a non-finite step, a rollback); such a"
                    + " spike is still clipped down to spike.ratio times typical; at or below spike.ratio: off",
            GuardConfig.Builder::spikeCalm, GuardConfig::spikeCalm);
    static final ConfigKey SPIKE_ALPHA = ConfigKey.real(ConfigKeys.SPIKE_ALPHA, NumberRange.OPEN_UNIT,
            DEFAULT_SPIKE_ALPHA, "EMA decay of the norm and loss statistics (~50-step memory)",
            GuardConfig.Builder::spikeAlpha, GuardConfig::spikeAlpha);
    static final ConfigKey SPIKE_WARMUP = ConfigKey.integer(ConfigKeys.SPIKE_WARMUP, NumberRange.atLeast(2),
            DEFAULT_SPIKE_WARMUP, "steps that only feed the statistics before spikes are judged",
            GuardConfig.Builder::spikeWarmup, GuardConfig::spikeWarmup);
    static final ConfigKey LOSS_Z = ConfigKey.real(ConfigKeys.LOSS_Z, NumberRange.POSITIVE, DEFAULT_LOSS_Z,
            "z threshold of the loss spike detector", GuardConfig.Builder::lossZ, GuardConfig::lossZ);
    static final ConfigKey LOSS_RATIO = ConfigKey.real(ConfigKeys.LOSS_RATIO, NumberRange.ABOVE_ONE,
            DEFAULT_LOSS_RATIO, "minimum ratio of a spiking loss to the typical loss",
            GuardConfig.Builder::lossRatio, GuardConfig::lossRatio);
    static final ConfigKey LOSS_PATIENCE = ConfigKey.integer(ConfigKeys.LOSS_PATIENCE, NumberRange.atLeast(1),
            DEFAULT_LOSS_PATIENCE, "consecutive loss spikes before a rollback",
            GuardConfig.Builder::lossPatience, GuardConfig::lossPatience);
    static final ConfigKey SKIP_RATIO = ConfigKey.real(ConfigKeys.SKIP_RATIO, NumberRange.ABOVE_ONE,
            DEFAULT_SKIP_RATIO, "ratio to the typical norm (or loss) above which a batch is skipped as an outlier",
            GuardConfig.Builder::skipRatio, GuardConfig::skipRatio);
    static final ConfigKey SKIP_MAX = ConfigKey.integer(ConfigKeys.SKIP_MAX, NumberRange.atLeast(0),
            DEFAULT_SKIP_MAX, "consecutive outlier skips before the guard rolls back (or clips, without a snapshot)",
            GuardConfig.Builder::skipMax, GuardConfig::skipMax);
    static final ConfigKey NONFINITE_MAX = ConfigKey.integer(ConfigKeys.NONFINITE_MAX, NumberRange.atLeast(1),
            DEFAULT_NONFINITE_MAX,
            "consecutive non-finite steps before the guard rolls back (or halts, without a snapshot)",
            GuardConfig.Builder::nonfiniteMax, GuardConfig::nonfiniteMax);
    static final ConfigKey GROWTH_STEPS = ConfigKey.integer(ConfigKeys.GROWTH_STEPS, NumberRange.atLeast(1),
            DEFAULT_GROWTH_STEPS, "consecutive clipped spikes that count as runaway growth (then: rollback)",
            GuardConfig.Builder::growthSteps, GuardConfig::growthSteps);
    static final ConfigKey RISE_RATIO = ConfigKey.real(ConfigKeys.RISE_RATIO, NumberRange.OFF_OR_ABOVE_ONE,
            DEFAULT_RISE_RATIO, "a loss this many times the loss of the run's first step is trouble (then: rollback);"
                    + " 0 turns the rule off",
            GuardConfig.Builder::riseRatio, GuardConfig::riseRatio);
    static final ConfigKey REGRESS_RATIO = ConfigKey.real(ConfigKeys.REGRESS_RATIO, NumberRange.OFF_OR_ABOVE_ONE,
            DEFAULT_REGRESS_RATIO, "a smoothed loss this many times the best smoothed loss the run reached (floored"
                    + " at 5% of its first loss) is trouble (then: rollback); 0 turns the rule off",
            GuardConfig.Builder::regressRatio, GuardConfig::regressRatio);
    static final ConfigKey SLIDE_RATIO = ConfigKey.real(ConfigKeys.SLIDE_RATIO, NumberRange.OFF_OR_ABOVE_ONE,
            DEFAULT_SLIDE_RATIO, "a smoothed loss that stays above this many times the lowest smoothed loss of the"
                    + " last 500 steps (and 6 of its standard deviations above it) for 50 applied steps in a row is"
                    + " trouble (then: rollback); 0 turns the rule off",
            GuardConfig.Builder::slideRatio, GuardConfig::slideRatio);
    static final ConfigKey COLLAPSE_DROP = ConfigKey.real(ConfigKeys.COLLAPSE_DROP, NumberRange.OFF_OR_ABOVE_ONE,
            DEFAULT_COLLAPSE_DROP, "after a sign of trouble, a gradient norm this many times below its level in the"
                    + " first steps, with a loss that stopped improving for 20 steps, is a collapse (then: rollback);"
                    + " 0 turns the rule off",
            GuardConfig.Builder::collapseDrop, GuardConfig::collapseDrop);
    static final ConfigKey COLLAPSE_QUIET = ConfigKey.real(ConfigKeys.COLLAPSE_QUIET, NumberRange.OFF_OR_ABOVE_ONE,
            DEFAULT_COLLAPSE_QUIET, "without a prior sign of trouble, a gradient norm this many times below its"
                    + " level in the first steps, with a loss that stopped improving for 20 steps, is a collapse"
                    + " (then: rollback); 0 turns that half of the rule off",
            GuardConfig.Builder::collapseQuiet, GuardConfig::collapseQuiet);
    static final ConfigKey DEAD_SHARE = ConfigKey.real(ConfigKeys.DEAD_SHARE, NumberRange.OFF_OR_SHARE,
            DEFAULT_DEAD_SHARE, "when the parameters whose gradients fell to zero hold this share of the weights for"
                    + " 20 steps, and the loss is not solved, the run collapsed (then: rollback); 0 turns the rule off",
            GuardConfig.Builder::deadShare, GuardConfig::deadShare);

    /** The keys, in the order {@link ConfigKeys#descriptions()} lists them. */
    static final List<ConfigKey> KEYS = List.of(SPIKE_Z, SPIKE_RATIO, SPIKE_CALM, SPIKE_ALPHA, SPIKE_WARMUP, LOSS_Z,
            LOSS_RATIO, LOSS_PATIENCE, SKIP_RATIO, SKIP_MAX, NONFINITE_MAX, GROWTH_STEPS, RISE_RATIO,
            REGRESS_RATIO, SLIDE_RATIO, COLLAPSE_DROP, COLLAPSE_QUIET, DEAD_SHARE);

    /**
     * The setters of these keys, inherited by {@link GuardConfig.Builder}. Each checks its own argument and
     * names the key, the value, the accepted range and the source; {@link #detection()} checks the rule across
     * keys.
     */
    abstract static sealed class Setters extends BuilderBase permits RecoverySettings.Setters {

        private double spikeZ = DEFAULT_SPIKE_Z;
        private double spikeRatio = DEFAULT_SPIKE_RATIO;
        private double spikeCalm = DEFAULT_SPIKE_CALM;
        private double spikeAlpha = DEFAULT_SPIKE_ALPHA;
        private int spikeWarmup = DEFAULT_SPIKE_WARMUP;
        private double lossZ = DEFAULT_LOSS_Z;
        private double lossRatio = DEFAULT_LOSS_RATIO;
        private int lossPatience = DEFAULT_LOSS_PATIENCE;
        private double skipRatio = DEFAULT_SKIP_RATIO;
        private int skipMax = DEFAULT_SKIP_MAX;
        private int nonfiniteMax = DEFAULT_NONFINITE_MAX;
        private int growthSteps = DEFAULT_GROWTH_STEPS;
        private double riseRatio = DEFAULT_RISE_RATIO;
        private double regressRatio = DEFAULT_REGRESS_RATIO;
        private double slideRatio = DEFAULT_SLIDE_RATIO;
        private double collapseDrop = DEFAULT_COLLAPSE_DROP;
        private double collapseQuiet = DEFAULT_COLLAPSE_QUIET;
        private double deadShare = DEFAULT_DEAD_SHARE;

        Setters() {}

        Setters(GuardConfig prototype) {
            DetectionSettings d = prototype.detection;
            spikeZ = d.spikeZ;
            spikeRatio = d.spikeRatio;
            spikeCalm = d.spikeCalm;
            spikeAlpha = d.spikeAlpha;
            spikeWarmup = d.spikeWarmup;
            lossZ = d.lossZ;
            lossRatio = d.lossRatio;
            lossPatience = d.lossPatience;
            skipRatio = d.skipRatio;
            skipMax = d.skipMax;
            nonfiniteMax = d.nonfiniteMax;
            growthSteps = d.growthSteps;
            riseRatio = d.riseRatio;
            regressRatio = d.regressRatio;
            slideRatio = d.slideRatio;
            collapseDrop = d.collapseDrop;
            collapseQuiet = d.collapseQuiet;
            deadShare = d.deadShare;
        }

        /**
         * @param v {@link GuardConfig#spikeZ()}, > 0
         * @return this builder
         */
        public GuardConfig.Builder spikeZ(double v) {
            spikeZ = SPIKE_Z.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#spikeRatio()}, > 1
         * @return this builder
         */
        public GuardConfig.Builder spikeRatio(double v) {
            spikeRatio = SPIKE_RATIO.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#spikeCalm()}, > 1 (at or below spike.ratio: off)
         * @return this builder
         */
        public GuardConfig.Builder spikeCalm(double v) {
            spikeCalm = SPIKE_CALM.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#spikeAlpha()}, in (0, 1)
         * @return this builder
         */
        public GuardConfig.Builder spikeAlpha(double v) {
            spikeAlpha = SPIKE_ALPHA.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#spikeWarmup()}, >= 2
         * @return this builder
         */
        public GuardConfig.Builder spikeWarmup(int v) {
            spikeWarmup = SPIKE_WARMUP.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#lossZ()}, > 0
         * @return this builder
         */
        public GuardConfig.Builder lossZ(double v) {
            lossZ = LOSS_Z.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#lossRatio()}, > 1
         * @return this builder
         */
        public GuardConfig.Builder lossRatio(double v) {
            lossRatio = LOSS_RATIO.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#lossPatience()}, >= 1
         * @return this builder
         */
        public GuardConfig.Builder lossPatience(int v) {
            lossPatience = LOSS_PATIENCE.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#skipRatio()}, > 1 and, at {@link GuardConfig.Builder#build()}, > spike.ratio
         * @return this builder
         */
        public GuardConfig.Builder skipRatio(double v) {
            skipRatio = SKIP_RATIO.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#skipMax()}, >= 0
         * @return this builder
         */
        public GuardConfig.Builder skipMax(int v) {
            skipMax = SKIP_MAX.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#nonfiniteMax()}, >= 1
         * @return this builder
         */
        public GuardConfig.Builder nonfiniteMax(int v) {
            nonfiniteMax = NONFINITE_MAX.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#growthSteps()}, >= 1
         * @return this builder
         */
        public GuardConfig.Builder growthSteps(int v) {
            growthSteps = GROWTH_STEPS.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#riseRatio()}, 0 (off) or > 1
         * @return this builder
         */
        public GuardConfig.Builder riseRatio(double v) {
            riseRatio = RISE_RATIO.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#regressRatio()}, 0 (off) or > 1
         * @return this builder
         */
        public GuardConfig.Builder regressRatio(double v) {
            regressRatio = REGRESS_RATIO.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#slideRatio()}, 0 (off) or > 1
         * @return this builder
         */
        public GuardConfig.Builder slideRatio(double v) {
            slideRatio = SLIDE_RATIO.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#collapseDrop()}, 0 (off) or > 1
         * @return this builder
         */
        public GuardConfig.Builder collapseDrop(double v) {
            collapseDrop = COLLAPSE_DROP.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#collapseQuiet()}, 0 (off) or > 1
         * @return this builder
         */
        public GuardConfig.Builder collapseQuiet(double v) {
            collapseQuiet = COLLAPSE_QUIET.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#deadShare()}, 0 (off) or in (0, 1]
         * @return this builder
         */
        public GuardConfig.Builder deadShare(double v) {
            deadShare = DEAD_SHARE.check(v, source);
            return self();
        }

        /**
         * @return the settings
         * @throws InvalidConfigException when skip.ratio is not above spike.ratio
         */
        final DetectionSettings detection() {
            if (skipRatio <= spikeRatio) {
                throw new InvalidConfigException(ConfigKeys.SKIP_RATIO, Double.toString(skipRatio),
                        "greater than spike.ratio (" + spikeRatio + "): a batch is skipped only when it is"
                                + " further out than a clipped spike", source);
            }
            return new DetectionSettings(spikeZ, spikeRatio, spikeAlpha, spikeWarmup, lossZ, lossRatio,
                    lossPatience, skipRatio, skipMax, nonfiniteMax, growthSteps, riseRatio, regressRatio,
                    slideRatio, collapseDrop, collapseQuiet, deadShare, spikeCalm);
        }
    }
}
