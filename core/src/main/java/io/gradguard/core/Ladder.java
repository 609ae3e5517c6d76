package io.gradguard.core;

import io.gradguard.core.clip.FixedClipThreshold;
import io.gradguard.core.clip.NormPercentile;
import io.gradguard.core.event.EventKind;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.rule.CollapseRule;
import io.gradguard.core.rule.DeadGradientsRule;
import io.gradguard.core.rule.LossRegressionRule;
import io.gradguard.core.rule.LossSlideRule;
import io.gradguard.core.rule.LossRiseRule;
import io.gradguard.core.rule.StepView;
import io.gradguard.core.rule.StreakRules;
import io.gradguard.core.rule.Trouble;
import io.gradguard.core.rule.TroubleRule;
import java.util.List;
import java.util.function.Supplier;

/**
 * The decision half of the policy: from one step's numbers to what to do with it. The in-step rungs (skip,
 * clip) are the step's {@link StepPlan}; above them the {@link TroubleRule rules}, in order, each one signal,
 * the first that finds trouble wins and hands it to {@link Recovery}. Keeps the statistics ({@link Detectors})
 * and the per-episode counters that a rollback resets. No I/O: what it sees goes to the {@link Recorder} as
 * events.
 */
final class Ladder {

    private static final int MAX_NAMED = 5;
    /** The most recent gradient norms the cap after a rollback ({@code recovery.percentile}) is a percentile of. */
    static final int CAP_WINDOW = 1000;

    private final GuardConfig config;
    private final Recorder recorder;
    private final Recovery recovery;
    private final FixedClipThreshold fixedClip;
    private final LossRiseRule lossRise;
    private final CollapseRule collapse;
    private final DeadGradientsRule dead;
    /** The raw norms since the first rollback, for the cap ({@code recovery.percentile}); null when it is off. */
    private final NormPercentile capNorms;
    /** The ladder's rules above the in-step rungs, in order: the first that finds trouble wins. */
    private final List<TroubleRule> rules;
    final Detectors detectors;

    List<String> names = List.of();
    long nonFinite;
    int healthyStreak;
    boolean lastUpdateHealthy = true;
    private int consecutiveSkips;
    private boolean previousClippedSpike;

    Ladder(GuardConfig config, Recorder recorder, Recovery recovery) {
        this.config = config;
        this.recorder = recorder;
        this.recovery = recovery;
        this.detectors = new Detectors(config);
        this.fixedClip = config.clipNorm().isPresent() ? new FixedClipThreshold(config.clipNorm().getAsDouble()) : null;
        this.lossRise = new LossRiseRule(config.riseRatio());
        this.collapse = new CollapseRule(config.collapseDrop(), config.collapseQuiet(), lossRise);
        this.dead = new DeadGradientsRule(config.deadShare());
        this.capNorms = config.recoveryPercentile() > 0 ? new NormPercentile(CAP_WINDOW) : null;
        this.rules = List.of(StreakRules.corruptedWeights(), StreakRules.nonFinite(config.nonfiniteMax()),
                StreakRules.outliers(config.skipMax()), StreakRules.lossSpikes(config.lossPatience()), lossRise,
                new LossRegressionRule(config.regressRatio()), new LossSlideRule(config.slideRatio()),
                StreakRules.growth(config.growthSteps()), collapse, dead);
    }

    /**
     * The run's parameters.
     *
     * @param info the run
     */
    void begin(RunInfo info) {
        names = info.parameterNames();
        dead.sizes(info.parameters().stream().mapToLong(RunInfo.Parameter::size).toArray());
    }

    /** The set of trainable parameters changed: the statistics that depend on it start again. */
    void parametersChanged(List<String> now) {
        names = List.copyOf(now);
        dead.sizes(null);
        detectors.restartNorms();
        healthyStreak = 0;
    }

    /** The clip threshold the step being decided was planned with (for the texts). */
    private double stepClipAbove = Double.POSITIVE_INFINITY;
    /** The factor the cap scaled the step being decided by (1: not capped). */
    private double stepCap = 1.0;

    private void event(long step, EventKind kind, String detail, String param) {
        recorder.event(new GuardEvent(step, kind, detail, param));
    }

    /**
     * @param raw the step's numbers as measured
     * @param plan the step's plan
     * @param weights the weight norms on request, or null
     * @return the decision
     */
    Decision decide(StepStats raw, StepPlan plan, Supplier<double[]> weights) {
        boolean finite = raw.gradientsFinite() && !raw.lossNonFinite();
        StepPlan.Outcome o = plan.predict(raw.gradNorm(), raw.lossKnown() ? raw.loss() : 0.0);
        if (finite && capNorms != null && recovery.rollbacks > 0) {
            capNorms.add(raw.gradNorm());
        }
        // the cap after a rollback comes first: everything below judges the capped gradients, as if the run had
        // produced them (a capped step is not a spike, not a clip the fold counts, and may be healthy)
        stepCap = finite ? plan.capCoef(raw.gradNorm()) : 1.0;
        StepStats s = stepCap < 1.0 ? scaled(raw, stepCap) : raw;
        double norm = s.gradNorm();
        var normDetector = detectors.norm;
        var lossDetector = detectors.loss;
        // the thresholds this step was planned with (troubled() below widens nothing, it only tightens the next plan)
        stepClipAbove = clipThreshold();
        boolean normSpike = finite && norm > detectors.normSpikeAbove();
        boolean lossSpike = finite && s.lossKnown() && lossDetector.isSpike(s.loss());
        boolean outlier = finite && (norm > plan.skipNormAbove() || s.loss() > plan.skipLossAbove() && norm > plan.skipLossNormAbove());
        boolean outlierAny = finite && normDetector.count() > 0 && (norm > normDetector.typical() * config.skipRatio()
                || s.lossKnown() && lossDetector.count() > 0 && s.loss() > lossDetector.typical() * config.skipRatio()
                        && norm > normDetector.typical() * config.spikeRatio());
        StepView view = new StepView(s.step(), s.loss(), s.lossKnown(), norm, finite, o.action(), o.clipCoef(),
                config.policy() == Policy.AUTO && outlierAny, normSpike, lossSpike, consecutiveSkips, recovery.schedule.scale(),
                !finite && lastUpdateHealthy && nonFiniteWeights(weights), s.paramGradNorms());
        String reason = observe(s, view, o, outlier);
        if (!finite || lossSpike || view.clippedSpike() || outlier) {
            detectors.troubled();
        }
        if (config.policy().acts()) {
            for (TroubleRule rule : rules) {
                Trouble t = rule.check(view);
                if (t == null) {
                    continue;
                }
                Decision r = answer(s, t);
                if (r != null) {
                    return r;
                }
            }
        }
        return settle(s, view, plan, o, reason, weights);
    }

    /**
     * Publishes what the step shows (non-finite values, spikes, outliers) and keeps the counters.
     *
     * @return why the step is skipped, when it is
     */
    private String observe(StepStats s, StepView v, StepPlan.Outcome o, boolean skippedOutlier) {
        double norm = s.gradNorm();
        if (!v.finite()) {
            nonFinite++;
            healthyStreak = 0;
            previousClippedSpike = false;
            if (!v.weightsCorrupted()) {
                recovery.stable.unstable(recovery.schedule.scale());
            }
            String where = nonFiniteParams(s.paramGradNorms());
            String param = firstNonFiniteParam(s.paramGradNorms());
            recovery.noteBad(param);
            String what = s.lossNonFinite()
                    ? "loss is " + Guard.fmt(s.loss()) + (s.gradientsFinite() ? "" : ", gradient norm is " + Guard.fmt(norm))
                    : "gradient norm is " + Guard.fmt(norm);
            if (!where.isEmpty()) {
                what += " (non-finite gradients in " + where + ")";
            }
            event(s.step(), EventKind.NONFINITE, what + (config.policy().acts() ? "" : "; monitor policy: not acted on"), param);
            return what;
        }
        var normDetector = detectors.norm;
        if (v.lossSpike()) {
            event(s.step(), EventKind.LOSS_SPIKE, "loss " + Guard.fmt(s.loss()) + " is " + Guard.fmt(detectors.loss.ratio(s.loss()))
                    + "x its typical value " + Guard.fmt(detectors.loss.typical()), null);
        }
        String why = null;
        if (skippedOutlier) {
            healthyStreak = 0;
            recovery.noteBad(mostGrownParam(s));
            why = outlierWhy(s);
            if (consecutiveSkips < config.skipMax()) {
                // from skip.max on, the outlier rule rolls back instead
                consecutiveSkips++;
                event(s.step(), EventKind.SPIKE, why + "; batch skipped", mostGrownParam(s));
            }
        } else if (v.clippedSpike()) {
            if (!previousClippedSpike) {
                event(s.step(), EventKind.SPIKE, "gradient norm " + Guard.fmt(norm) + " (" + Guard.fmt(normDetector.ratio(norm))
                        + "x typical) above the clip threshold " + Guard.fmt(stepClipAbove) + "; clipped by " + Guard.fmt(o.clipCoef()),
                        mostGrownParam(s));
            }
            recovery.noteBad(mostGrownParam(s));
        } else if (!config.policy().acts() && v.normSpike()) {
            event(s.step(), EventKind.SPIKE, "gradient norm " + Guard.fmt(norm) + " is " + Guard.fmt(normDetector.ratio(norm))
                    + "x typical (threshold " + Guard.fmt(stepClipAbove) + "); monitor policy: not clipped", mostGrownParam(s));
        }
        previousClippedSpike = skippedOutlier ? previousClippedSpike : v.clippedSpike();
        return why;
    }

    private String outlierWhy(StepStats s) {
        double norm = s.gradNorm();
        var lossDetector = detectors.loss;
        boolean lossOutlier = s.lossKnown() && lossDetector.count() > 0 && s.loss() > lossDetector.typical() * config.skipRatio();
        return "outlier batch: gradient norm " + Guard.fmt(norm) + " is " + Guard.fmt(detectors.norm.ratio(norm)) + "x typical"
                + (lossOutlier ? ", loss " + Guard.fmt(lossDetector.ratio(s.loss())) + "x typical" : "");
    }

    /** A rule found trouble: roll back, or halt when the parameters are lost and no rollback is possible. */
    private Decision answer(StepStats s, Trouble t) {
        if (recovery.spent() && !t.fatalWithoutRollback()) {
            // the guard settled after its budget was spent: finite trouble is no longer acted on (nor repeated)
            return null;
        }
        detectors.troubled();
        recovery.noteBad(mostGrownParam(s));
        // the rate is blamed unless the rule says otherwise, and only once: a second rollback before any healthy
        // progress cuts as usual
        boolean cut = t.cutsRate() || recovery.rollbacksSinceProgress > 0;
        if (cut) {
            recovery.stable.unstable(recovery.schedule.scale());
        }
        String why = t.why();
        if (t.kind() == EventKind.GROWTH) {
            why += " (now " + Guard.fmt(s.gradNorm()) + ", typical " + Guard.fmt(detectors.norm.typical()) + ")";
        }
        if (t.kind() != null) {
            event(s.step(), t.kind(), why, mostGrownParam(s));
        }
        if (t.rule().equals("outlier_streak")) {
            why += " (" + outlierWhy(s) + ")";
        }
        Decision r = recovery.rollbackOrNull(s.step(), why, cut, detectors);
        if (r != null && r.action() == Action.ROLLBACK) {
            // the restored state starts a new episode
            consecutiveSkips = 0;
            previousClippedSpike = false;
            rules.forEach(TroubleRule::rolledBack);
            healthyStreak = 0;
        }
        if (r == null && t.fatalWithoutRollback()) {
            return recovery.abort(s.step(), why.replace("consecutive non-finite steps", "consecutive steps had a non-finite loss"
                    + " or gradient") + ", so the parameters are no longer usable", detectors);
        }
        return r;
    }

    /** No rule called for a rollback: the in-step action stands; keep the statistics and maybe snapshot. */
    private Decision settle(StepStats s, StepView v, StepPlan plan, StepPlan.Outcome o, String reason,
            Supplier<double[]> weights) {
        if (o.action() == Action.SKIP) {
            return Decision.skip(reason);
        }
        if (!v.finite()) {
            return Decision.step();
        }
        consecutiveSkips = 0;
        double norm = s.gradNorm();
        // the clip of the ladder's own rung, on the (capped) norm; the cap alone is not one
        boolean rungClip = norm > plan.clipAbove();
        double rungCoef = rungClip ? plan.clipCoef(norm) : 1.0;
        Decision d = rungClip
                ? Decision.clip(o.clipCoef(), "norm " + Guard.fmt(norm) + " > threshold " + Guard.fmt(stepClipAbove)
                        + (stepCap < 1.0 ? " (after the cap: " + capWhy(s, plan) + ")" : ""))
                : stepCap < 1.0 ? Decision.clip(o.clipCoef(), capWhy(s, plan)) : Decision.step();
        if (v.clippedSpike() || v.lossSpike()) {
            recovery.stable.unstable(recovery.schedule.scale());
        }
        if (v.clippedSpike()) {
            detectors.norm.updateClipped(norm * rungCoef);
            // the re-warm stops at a scale that needed its spikes clipped
            recovery.schedule.unstable(s.step());
        } else {
            detectors.norm.update(norm * rungCoef);
        }
        recovery.foldClipping(s.step(), rungClip);
        recovery.watchForStall(s);
        if (s.lossKnown()) {
            if (v.lossSpike()) {
                detectors.loss.updateClipped(detectors.loss.threshold());
            } else {
                detectors.loss.update(s.loss());
            }
        }
        boolean healthy = !rungClip && !v.normSpike() && !v.lossSpike();
        if (!healthy) {
            healthyStreak = 0;
            return d;
        }
        healthyStreak++;
        detectors.params.update(s.paramGradNorms());
        recovery.healthy(s.step(), norm);
        if (o.snapshot()) {
            if (nonFiniteWeights(weights)) {
                // gradients computed before something wrote into the weights look healthy; a snapshot of the
                // corrupted weights would make every rollback restore them, so the last good one is kept
                recorder.warning(s.step(), "no snapshot at step " + s.step() + ": the parameters are non-finite although the"
                        + " step's gradients are finite (written into between backward and the update?); the snapshot"
                        + " before step " + recovery.snapshotStep + " is kept");
                return d;
            }
            recovery.takeSnapshot(s.step(), s.lossKnown() ? detectors.loss.typical() : Double.NaN, detectors);
            return stepCap < 1.0 ? Decision.clip(o.clipCoef(), capWhy(s, plan), true) : Decision.stepAndSnapshot();
        }
        return d;
    }

    private String capWhy(StepStats capped, StepPlan plan) {
        return "norm " + Guard.fmt(capped.gradNorm() / stepCap) + " capped to " + Guard.fmt(plan.capTo()) + ", "
                + Guard.percentile(config.recoveryPercentile()) + " of the norms since the first rollback";
    }

    /** The step's numbers with every gradient scaled by {@code c}: what the ladder judges after the cap. */
    private static StepStats scaled(StepStats s, double c) {
        double[] p = s.paramGradNorms();
        double[] q = null;
        if (p != null) {
            q = new double[p.length];
            for (int i = 0; i < p.length; i++) {
                q[i] = p[i] * c;
            }
        }
        return new StepStats(s.step(), s.loss(), s.lossKnown(), s.gradNorm() * c, q);
    }

    /** The in-step thresholds for the next step (see {@link Guard#plan}); the guard is active and not halted. */
    StepPlan plan(long step) {
        double inf = Double.POSITIVE_INFINITY;
        boolean acts = config.policy().acts();
        boolean auto = config.policy() == Policy.AUTO;
        var normDetector = detectors.norm;
        var lossDetector = detectors.loss;
        boolean outliersSkip = auto && (consecutiveSkips < config.skipMax()
                || (recovery.rollbackEnabled() && !recovery.spent() && recovery.snapshotStep >= 0));
        double normTypical = normDetector.count() > 0 ? normDetector.typical() : Double.NaN;
        double lossTypical = lossDetector.count() > 0 ? lossDetector.typical() : Double.NaN;
        double skipNorm = outliersSkip && normDetector.count() > 0 ? normTypical * config.skipRatio() : inf;
        double skipLoss = outliersSkip && lossDetector.count() > 0 && normDetector.count() > 0
                ? lossTypical * config.skipRatio() : inf;
        double skipLossNorm = outliersSkip && normDetector.count() > 0 ? normTypical * config.spikeRatio() : inf;
        double clip = acts ? clipThreshold() : inf;
        // decide() counts this step into the streak before it asks; a loss above where the run started is
        // trouble, never a state to snapshot
        boolean snapshot = snapshotDue(step) && !(auto && (collapse.suspected() || dead.suspected()));
        double lossAbove = Math.min(lossDetector.threshold(), auto ? lossRise.threshold() : inf);
        double cap = acts && capNorms != null && recovery.rollbacks > 0 && capNorms.count() > 0
                ? capNorms.percentile(config.recoveryPercentile()) : inf;
        return new StepPlan(step, clip, skipNorm, skipLoss, skipLossNorm, detectors.normSpikeAbove(), lossAbove,
                acts, acts && recovery.skipRemaining > 0, snapshot, recovery.schedule.scale(), acts ? clipTarget() : inf, cap);
    }

    /** Whether a healthy step at {@code step} would be snapshotted (it would extend the healthy streak by one). */
    boolean snapshotDue(long step) {
        return recovery.snapshotDue(step, healthyStreak + 1, detectors);
    }

    /** @return the norm above which the next step is clipped (with a calm run's wider spike floor) */
    private double clipThreshold() {
        return clipAt(detectors.normSpikeAbove());
    }

    /**
     * @return the norm a clipped step is scaled down to: the clip threshold at {@code spike.ratio} (never above
     *     {@link #clipThreshold()}, whose spike floor is {@code spike.ratio} or the wider calm one)
     */
    private double clipTarget() {
        return clipAt(detectors.norm.threshold());
    }

    /**
     * A clip threshold: {@code clip.norm} when fixed; otherwise the given spike threshold, tightened after the
     * first rollback to {@code recovery.clip} times the typical norm.
     */
    private double clipAt(double spikeAbove) {
        if (fixedClip != null) {
            return fixedClip.threshold();
        }
        var normDetector = detectors.norm;
        double t = spikeAbove;
        if (config.recoveryClip() > 0 && recovery.rollbacks > 0 && normDetector.count() > 0) {
            t = Math.min(t, normDetector.typical() * config.recoveryClip());
        }
        return t;
    }

    /** The parameter whose gradient grew most over its typical norm; computed only when an event needs it. */
    private String mostGrownParam(StepStats s) {
        int grown = detectors.params.mostGrown(s.paramGradNorms());
        return grown >= 0 && grown < names.size() ? names.get(grown) : null;
    }

    /**
     * @param weights the step's weight norms (asked at most once per step), or null
     * @return true when the adapter can measure the weights and one of their norms is not finite
     */
    private static boolean nonFiniteWeights(Supplier<double[]> weights) {
        double[] w = weights == null ? null : weights.get();
        if (w == null) {
            return false;
        }
        for (double x : w) {
            if (!Double.isFinite(x)) {
                return true;
            }
        }
        return false;
    }

    private String nonFiniteParams(double[] norms) {
        if (norms == null || norms.length != names.size()) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        int count = 0;
        for (int i = 0; i < norms.length; i++) {
            if (!Double.isFinite(norms[i])) {
                if (count < MAX_NAMED) {
                    sb.append(count > 0 ? ", " : "").append(names.get(i));
                }
                count++;
            }
        }
        if (count > MAX_NAMED) {
            sb.append(" and ").append(count - MAX_NAMED).append(" more");
        }
        return count == 0 ? "" : count + " parameter" + (count > 1 ? "s: " : ": ") + sb;
    }

    private String firstNonFiniteParam(double[] norms) {
        if (norms == null || norms.length != names.size()) {
            return null;
        }
        // Backpropagation runs from the output towards the input: the last parameter in model order
        // that went non-finite is the first one the backward pass reached.
        for (int i = norms.length - 1; i >= 0; i--) {
            if (!Double.isFinite(norms[i])) {
                return names.get(i);
            }
        }
        return null;
    }
}
