package io.gradguard.core;

import java.util.List;
import java.util.Objects;

/**
 * How the guard repairs a run once it saw trouble: the clip threshold (and its cap after a rollback), the
 * healthy snapshot (how often, where), the rollback (the learning-rate cut, the budget, the batches skipped),
 * the re-warm, the learning-rate floor, and the fold and stall rules. Declares its keys, their defaults and
 * ranges once, and gives {@link GuardConfig.Builder} their setters ({@link Setters}). Each component is read
 * through the {@link GuardConfig} accessor of the same name, which says what it means.
 *
 * @param clipNorm the fixed clip threshold, or null for the adaptive one (see {@link GuardConfig#clipNorm()})
 * @param snapshotEvery see {@link GuardConfig#snapshotEvery()}
 * @param snapshotLocation see {@link GuardConfig#snapshotLocation()}
 * @param rollbackCut see {@link GuardConfig#rollbackCut()}
 * @param rollbackMax see {@link GuardConfig#rollbackMax()}
 * @param rollbackSkip see {@link GuardConfig#rollbackSkip()}
 * @param rewarmSteps see {@link GuardConfig#rewarmSteps()}
 * @param rewarmTarget see {@link GuardConfig#rewarmTarget()}
 * @param lrFloor see {@link GuardConfig#lrFloor()}
 * @param foldRate see {@link GuardConfig#foldRate()}
 * @param stallSteps see {@link GuardConfig#stallSteps()}
 * @param recoveryClip see {@link GuardConfig#recoveryClip()}
 * @param recoveryPercentile see {@link GuardConfig#recoveryPercentile()}
 * @param haltWhenSpent see {@link GuardConfig#haltWhenSpent()}
 */
record RecoverySettings(Double clipNorm, int snapshotEvery, SnapshotLocation snapshotLocation, double rollbackCut,
        int rollbackMax, int rollbackSkip, int rewarmSteps, double rewarmTarget, double lrFloor, double foldRate,
        int stallSteps, double recoveryClip, double recoveryPercentile, boolean haltWhenSpent) {

    // The defaults; GuardConfig publishes each as DEFAULT_<KEY>.
    static final int DEFAULT_SNAPSHOT_EVERY = 50;
    static final double DEFAULT_ROLLBACK_CUT = 0.3;
    static final int DEFAULT_ROLLBACK_MAX = 10;
    static final int DEFAULT_ROLLBACK_SKIP = 0;
    static final int DEFAULT_REWARM_STEPS = 100;
    static final double DEFAULT_REWARM_TARGET = 0.4;
    static final double DEFAULT_LR_FLOOR = 0.001;
    static final double DEFAULT_FOLD_RATE = 0.3;
    static final int DEFAULT_STALL_STEPS = 25;
    /** Chosen on the recovery benchmark (0, 1, 1.5, 2, 3 measured). */
    static final double DEFAULT_RECOVERY_CLIP = 3.0;
    /** Off: 5, 10 and 20 swept on the extended tuning set, none met the bar (RESULTS.md, "... the cap after a rollback"). */
    static final double DEFAULT_RECOVERY_PERCENTILE = 0;
    /** What a spent rollback budget does: {@code settle} (the default) or {@code halt}. */
    static final String DEFAULT_ROLLBACK_SPENT = "settle";

    static final ConfigKey CLIP_NORM = ConfigKey.of(ConfigKeys.CLIP_NORM,
            NumberRange.POSITIVE_OR_AUTO.shortForm(), "auto", "global-norm clip threshold", (b, key, value, source) -> {
                if (value.equalsIgnoreCase("auto")) {
                    b.clipNormAuto();
                } else {
                    b.clipNorm(NumberRange.POSITIVE_OR_AUTO.parse(key, value, source).doubleValue());
                }
            }, c -> c.recovery.clipNorm == null ? "auto" : Double.toString(c.recovery.clipNorm));
    static final ConfigKey SNAPSHOT_EVERY = ConfigKey.integer(ConfigKeys.SNAPSHOT_EVERY, NumberRange.atLeast(0),
            DEFAULT_SNAPSHOT_EVERY, "steps between healthy snapshots (0: no snapshots, no rollback)",
            GuardConfig.Builder::snapshotEvery, GuardConfig::snapshotEvery);
    static final ConfigKey SNAPSHOT_LOCATION = ConfigKey.of(ConfigKeys.SNAPSHOT_LOCATION, "device | host",
            SnapshotLocation.DEVICE.key(), "where the healthy snapshot is kept", (b, key, value, source) -> {
                SnapshotLocation location;
                try {
                    location = SnapshotLocation.parse(value);
                } catch (IllegalArgumentException e) {
                    throw new InvalidConfigException(key, value, "device or host", source);
                }
                b.snapshotLocation(location);
            }, c -> c.snapshotLocation().key());
    static final ConfigKey ROLLBACK_CUT = ConfigKey.real(ConfigKeys.ROLLBACK_CUT, NumberRange.OPEN_UNIT,
            DEFAULT_ROLLBACK_CUT, "factor the learning-rate scale is multiplied by at a rollback",
            GuardConfig.Builder::rollbackCut, GuardConfig::rollbackCut);
    static final ConfigKey ROLLBACK_MAX = ConfigKey.integer(ConfigKeys.ROLLBACK_MAX, NumberRange.atLeast(1),
            DEFAULT_ROLLBACK_MAX, "rollbacks without healthy progress between them before the budget is spent (rollback.spent)",
            GuardConfig.Builder::rollbackMax, GuardConfig::rollbackMax);
    static final ConfigKey ROLLBACK_SPENT = ConfigKey.of(ConfigKeys.ROLLBACK_SPENT, "settle | halt",
            DEFAULT_ROLLBACK_SPENT, "when rollback.max or lr.floor is reached: settle (restore the last healthy"
                    + " snapshot once more, hold the learning-rate scale there and train on, acting only in the step: skip"
                    + " and clip) or halt the run", (b, key, value, source) -> {
                switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
                    case "settle" -> b.haltWhenSpent(false);
                    case "halt" -> b.haltWhenSpent(true);
                    default -> throw new InvalidConfigException(key, value, "settle or halt", source);
                }
            }, c -> c.haltWhenSpent() ? "halt" : "settle");
    static final ConfigKey ROLLBACK_SKIP = ConfigKey.integer(ConfigKeys.ROLLBACK_SKIP, NumberRange.atLeast(0),
            DEFAULT_ROLLBACK_SKIP, "batches skipped right after a rollback",
            GuardConfig.Builder::rollbackSkip, GuardConfig::rollbackSkip);
    static final ConfigKey REWARM_STEPS = ConfigKey.integer(ConfigKeys.REWARM_STEPS, NumberRange.atLeast(0),
            DEFAULT_REWARM_STEPS, "healthy steps over which the cut learning-rate scale re-warms",
            GuardConfig.Builder::rewarmSteps, GuardConfig::rewarmSteps);
    static final ConfigKey REWARM_TARGET = ConfigKey.real(ConfigKeys.REWARM_TARGET, NumberRange.OPEN_UNIT,
            DEFAULT_REWARM_TARGET, "re-warm up to this fraction of the lowest scale that exploded",
            GuardConfig.Builder::rewarmTarget, GuardConfig::rewarmTarget);
    static final ConfigKey LR_FLOOR = ConfigKey.real(ConfigKeys.LR_FLOOR, NumberRange.OPEN_UNIT, DEFAULT_LR_FLOOR,
            "the budget is spent (rollback.spent) when a cut would take the learning-rate scale below this",
            GuardConfig.Builder::lrFloor, GuardConfig::lrFloor);
    static final ConfigKey FOLD_RATE = ConfigKey.real(ConfigKeys.FOLD_RATE, NumberRange.OFF_OR_SHARE,
            DEFAULT_FOLD_RATE, "when this share of the last 50 applied steps was clipped, the learning-rate scale"
                    + " is cut (rollback.cut) instead of clipping on; 0 turns it off",
            GuardConfig.Builder::foldRate, GuardConfig::foldRate);
    static final ConfigKey STALL_STEPS = ConfigKey.integer(ConfigKeys.STALL_STEPS, NumberRange.atLeast(0),
            DEFAULT_STALL_STEPS, "after the guard cut the learning rate, blocks of this many applied steps whose"
                    + " mean loss stops improving (two in a row) halve the scale; 0 turns it off",
            GuardConfig.Builder::stallSteps, GuardConfig::stallSteps);
    static final ConfigKey RECOVERY_CLIP = ConfigKey.real(ConfigKeys.RECOVERY_CLIP, NumberRange.OFF_OR_ABOVE_ONE,
            DEFAULT_RECOVERY_CLIP, "after the first rollback, the adaptive clip threshold is at most this many"
                    + " times the typical norm, for the rest of the run; 0 turns it off",
            GuardConfig.Builder::recoveryClip, GuardConfig::recoveryClip);
    static final ConfigKey RECOVERY_PERCENTILE = ConfigKey.real(ConfigKeys.RECOVERY_PERCENTILE, NumberRange.OFF_OR_PERCENTILE,
            DEFAULT_RECOVERY_PERCENTILE, "after the first rollback, every step's gradients are capped at this percentile"
                    + " of the gradient norms seen since (the last " + Ladder.CAP_WINDOW + "), before the guard judges them;"
                    + " 0 turns it off", GuardConfig.Builder::recoveryPercentile, GuardConfig::recoveryPercentile);

    /** The keys, in the order {@link ConfigKeys#descriptions()} lists them. */
    static final List<ConfigKey> KEYS = List.of(CLIP_NORM, SNAPSHOT_EVERY, SNAPSHOT_LOCATION, ROLLBACK_CUT,
            ROLLBACK_MAX, ROLLBACK_SPENT, ROLLBACK_SKIP, REWARM_STEPS, REWARM_TARGET, LR_FLOOR, FOLD_RATE, STALL_STEPS, RECOVERY_CLIP,
            RECOVERY_PERCENTILE);

    /**
     * The setters of these keys, inherited by {@link GuardConfig.Builder}. Each checks its own argument and
     * names the key, the value, the accepted range and the source.
     */
    abstract static sealed class Setters extends DetectionSettings.Setters permits RecordingSettings.Setters {

        private Double clipNorm;
        private int snapshotEvery = DEFAULT_SNAPSHOT_EVERY;
        private SnapshotLocation snapshotLocation = SnapshotLocation.DEVICE;
        private double rollbackCut = DEFAULT_ROLLBACK_CUT;
        private int rollbackMax = DEFAULT_ROLLBACK_MAX;
        private int rollbackSkip = DEFAULT_ROLLBACK_SKIP;
        private int rewarmSteps = DEFAULT_REWARM_STEPS;
        private double rewarmTarget = DEFAULT_REWARM_TARGET;
        private double lrFloor = DEFAULT_LR_FLOOR;
        private double foldRate = DEFAULT_FOLD_RATE;
        private int stallSteps = DEFAULT_STALL_STEPS;
        private double recoveryClip = DEFAULT_RECOVERY_CLIP;
        private double recoveryPercentile = DEFAULT_RECOVERY_PERCENTILE;
        private boolean haltWhenSpent;

        Setters() {}

        Setters(GuardConfig prototype) {
            super(prototype);
            RecoverySettings r = prototype.recovery;
            clipNorm = r.clipNorm;
            snapshotEvery = r.snapshotEvery;
            snapshotLocation = r.snapshotLocation;
            rollbackCut = r.rollbackCut;
            rollbackMax = r.rollbackMax;
            rollbackSkip = r.rollbackSkip;
            rewarmSteps = r.rewarmSteps;
            rewarmTarget = r.rewarmTarget;
            lrFloor = r.lrFloor;
            foldRate = r.foldRate;
            stallSteps = r.stallSteps;
            recoveryClip = r.recoveryClip;
            recoveryPercentile = r.recoveryPercentile;
            haltWhenSpent = r.haltWhenSpent;
        }

        /**
         * A fixed global-norm clip threshold.
         *
         * @param v a positive, finite norm
         * @return this builder
         */
        public GuardConfig.Builder clipNorm(double v) {
            clipNorm = NumberRange.POSITIVE_OR_AUTO.check(ConfigKeys.CLIP_NORM, v, source);
            return self();
        }

        /**
         * The adaptive clip threshold, learnt from the norm history (the default).
         *
         * @return this builder
         */
        public GuardConfig.Builder clipNormAuto() {
            clipNorm = null;
            return self();
        }

        /**
         * @param v {@link GuardConfig#snapshotEvery()}, >= 0
         * @return this builder
         */
        public GuardConfig.Builder snapshotEvery(int v) {
            snapshotEvery = SNAPSHOT_EVERY.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#snapshotLocation()}
         * @return this builder
         */
        public GuardConfig.Builder snapshotLocation(SnapshotLocation v) {
            snapshotLocation = Objects.requireNonNull(v, "snapshotLocation");
            return self();
        }

        /**
         * @param v {@link GuardConfig#rollbackCut()}, in (0, 1)
         * @return this builder
         */
        public GuardConfig.Builder rollbackCut(double v) {
            rollbackCut = ROLLBACK_CUT.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#rollbackMax()}, >= 1
         * @return this builder
         */
        public GuardConfig.Builder rollbackMax(int v) {
            rollbackMax = ROLLBACK_MAX.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#haltWhenSpent()}: true halts the run when the rollback budget is spent,
         *     false (the default) settles
         * @return this builder
         */
        public GuardConfig.Builder haltWhenSpent(boolean v) {
            haltWhenSpent = v;
            return self();
        }

        /**
         * @param v {@link GuardConfig#rollbackSkip()}, >= 0
         * @return this builder
         */
        public GuardConfig.Builder rollbackSkip(int v) {
            rollbackSkip = ROLLBACK_SKIP.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#rewarmSteps()}, >= 0
         * @return this builder
         */
        public GuardConfig.Builder rewarmSteps(int v) {
            rewarmSteps = REWARM_STEPS.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#rewarmTarget()}, in (0, 1)
         * @return this builder
         */
        public GuardConfig.Builder rewarmTarget(double v) {
            rewarmTarget = REWARM_TARGET.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#lrFloor()}, in (0, 1)
         * @return this builder
         */
        public GuardConfig.Builder lrFloor(double v) {
            lrFloor = LR_FLOOR.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#foldRate()}, 0 (off) or in (0, 1]
         * @return this builder
         */
        public GuardConfig.Builder foldRate(double v) {
            foldRate = FOLD_RATE.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#stallSteps()}, >= 0 (0: off)
         * @return this builder
         */
        public GuardConfig.Builder stallSteps(int v) {
            stallSteps = STALL_STEPS.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#recoveryClip()}, 0 (off) or a finite number > 1
         * @return this builder
         */
        public GuardConfig.Builder recoveryClip(double v) {
            recoveryClip = RECOVERY_CLIP.check(v, source);
            return self();
        }

        /**
         * @param v {@link GuardConfig#recoveryPercentile()}, 0 (off) or in (0, 100)
         * @return this builder
         */
        public GuardConfig.Builder recoveryPercentile(double v) {
            recoveryPercentile = RECOVERY_PERCENTILE.check(v, source);
            return self();
        }

        /** @return the settings */
        final RecoverySettings recovery() {
            return new RecoverySettings(clipNorm, snapshotEvery, snapshotLocation, rollbackCut, rollbackMax,
                    rollbackSkip, rewarmSteps, rewarmTarget, lrFloor, foldRate, stallSteps, recoveryClip,
                    recoveryPercentile, haltWhenSpent);
        }
    }
}
