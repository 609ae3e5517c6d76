package io.gradguard.core;

import io.gradguard.core.diagnose.StableScales;
import io.gradguard.core.event.EventKind;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.rule.StallAfterTrouble;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The repair half of the policy: when to snapshot, how to roll back, the learning-rate scale and what lowers
 * it without a rollback (persistent clipping folded into it, a plateau after a repair), and when the budget is
 * spent, the halt. The {@link Ladder} decides that a step is trouble; this class carries the consequences and
 * remembers them (the snapshot's step and loss level, the rollbacks, the scales that proved unstable).
 */
final class Recovery {

    private static final int HEALTHY_BEFORE_SNAPSHOT = 10;
    /**
     * A new snapshot needs the loss to have improved on the last one's by this much: a run stuck at (or
     * sliding back to) a bad level keeps the older, better snapshot to roll back to.
     */
    static final double SNAPSHOT_PROGRESS = 0.05;
    /** ... or, once the snapshot is this many intervals old, no more than that much worse (a long plateau). */
    static final int SNAPSHOT_STALE = 10;
    /** Applied steps over which the clip rate is measured for {@code fold.rate}. */
    static final int FOLD_WINDOW = 50;

    private final GuardConfig config;
    private final Recorder recorder;
    final LrScaleSchedule schedule;
    final StableScales stable = new StableScales();
    private final StallAfterTrouble stall;
    private final boolean[] clipWindow = new boolean[FOLD_WINDOW];
    private int clipWindowFilled;
    private int clipWindowCount;
    private boolean rollbackPossible = true;
    private double snapshotLossLevel = Double.NaN;
    private boolean spent;

    long snapshotStep = -1;
    long rollbacks;
    int rollbacksSinceProgress;
    int skipRemaining;
    long lastHealthyStep = -1;
    double maxHealthyNorm;
    String firstBadParam;

    Recovery(GuardConfig config, Recorder recorder) {
        this.config = config;
        this.recorder = recorder;
        this.schedule = new LrScaleSchedule(config.rollbackCut(), config.rewarmSteps(), config.rewarmTarget());
        this.stall = new StallAfterTrouble(config.policy() == Policy.AUTO ? config.stallSteps() : 0);
    }

    boolean rollbackEnabled() {
        return config.policy() == Policy.AUTO && config.snapshotEvery() > 0 && rollbackPossible;
    }

    /** @return true when rollback was possible until now */
    boolean disableRollback() {
        boolean was = rollbackPossible;
        rollbackPossible = false;
        snapshotStep = -1;
        return was;
    }

    void noteBad(String param) {
        if (firstBadParam == null) {
            firstBadParam = param;
        }
    }

    /** A healthy step was applied: the scale re-warms a little, and the step counts as the last healthy one. */
    void healthy(long step, double norm) {
        lastHealthyStep = step;
        maxHealthyNorm = Math.max(maxHealthyNorm, norm);
        schedule.healthyStep(step);
    }

    /**
     * Whether a healthy step at {@code step}, ending a streak of {@code streak} healthy steps, is snapshotted:
     * the first healthy step always; later ones every {@code snapshot.every} steps, after a short healthy
     * streak, and only when the loss has improved on the last snapshot's (or, on a long plateau, is no
     * worse): a run that slid back or collapsed keeps the older, better state to return to.
     */
    boolean snapshotDue(long step, int streak, Detectors d) {
        if (!rollbackEnabled()) {
            return false;
        }
        if (snapshotStep < 0) {
            return true;
        }
        boolean progress = Double.isNaN(snapshotLossLevel) || d.loss.count() == 0
                || d.loss.typical() <= snapshotLossLevel * (1 - SNAPSHOT_PROGRESS)
                || step - snapshotStep >= SNAPSHOT_STALE * config.snapshotEvery()
                        && d.loss.typical() <= snapshotLossLevel * (1 + SNAPSHOT_PROGRESS);
        return progress && streak >= Math.min(HEALTHY_BEFORE_SNAPSHOT, config.snapshotEvery())
                && step - snapshotStep >= config.snapshotEvery();
    }

    void takeSnapshot(long step, double lossLevel, Detectors d) {
        if (rollbacksSinceProgress > 0 && snapshotStep >= 0) {
            // healthy progress since the last rollback: the budget starts again
            rollbacksSinceProgress = 0;
        }
        snapshotLossLevel = lossLevel;
        snapshotStep = step;
        d.remember();
        recorder.event(new GuardEvent(step, EventKind.SNAPSHOT,
                "healthy snapshot of the parameters and optimizer state before step " + step
                        + " (learning-rate scale " + Guard.fmt(schedule.scale()) + ")", null,
                Map.of("lr_scale", schedule.scale())));
    }

    /**
     * A rollback decision when one is possible and within budget; when the budget is spent, the last (settling)
     * rollback or, with {@code rollback.spent=halt}, an abort; else (rollback impossible, or already settled) null.
     * The caller resets its own per-episode counters when a rollback is returned.
     */
    Decision rollbackOrNull(long step, String why, boolean cut, Detectors d) {
        if (!rollbackEnabled() || snapshotStep < 0 || spent) {
            return null;
        }
        boolean deeper = rollbacksSinceProgress > 0;
        String spentWhy = rollbacksSinceProgress >= config.rollbackMax()
                ? ", after " + rollbacksSinceProgress + " rollbacks without healthy progress between them (rollback.max="
                        + config.rollbackMax() + ")"
                : cut && schedule.wouldCutTo(deeper) < config.lrFloor()
                        ? ", and another rollback would cut the learning-rate scale to " + Guard.fmt(schedule.wouldCutTo(deeper))
                                + ", below lr.floor=" + config.lrFloor()
                        : null;
        if (spentWhy != null) {
            return config.haltWhenSpent() ? abort(step, why + spentWhy, d) : settle(step, why + spentWhy, cut, deeper, d);
        }
        double before = schedule.scale();
        double after = cut ? schedule.cut(step, deeper) : before;
        if (cut) {
            stall.arm();
        }
        rollbacksSinceProgress++;
        skipRemaining = config.rollbackSkip();
        String detail = why + ": rolled back from step " + step + " to the snapshot before step " + snapshotStep
                + (cut ? "; learning-rate scale " + Guard.fmt(before) + " -> " + Guard.fmt(after) + " (re-warming to "
                        + Guard.fmt(schedule.target()) + " over " + config.rewarmSteps() + " healthy steps)"
                        : "; learning-rate scale kept at " + Guard.fmt(before) + " (not the learning rate's doing)")
                + (skipRemaining > 0 ? "; skipping the next " + skipRemaining + " batches" : "")
                + (rollbacks == 0 && config.recoveryPercentile() > 0 ? "; from here on every step's gradients are capped at "
                        + Guard.percentile(config.recoveryPercentile()) + " of the norms since (recovery.percentile)" : "");
        return rollBack(step, detail, before, after, d);
    }

    /** Restores the snapshot's statistics and records the rollback; the adapter restores the state itself. */
    private Decision rollBack(long step, String detail, double before, double after, Detectors d) {
        rollbacks++;
        d.restore();
        resetClipWindow();
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("from_step", step);
        data.put("to_step", snapshotStep);
        data.put("lr_scale_before", before);
        data.put("lr_scale", after);
        data.put("skip_batches", skipRemaining);
        data.put("rollbacks", rollbacks);
        if (spent) {
            data.put("spent", true);
        }
        recorder.event(new GuardEvent(step, EventKind.ROLLBACK, detail, firstBadParam, data));
        return Decision.rollback(after, detail);
    }

    /**
     * The budget is spent and {@code rollback.spent=settle}: one last rollback to the snapshot, the scale held at
     * the cut (not below {@code lr.floor}) for the rest of the run, and from then on finite trouble is no longer
     * rolled back (the in-step rungs still clip and skip; a non-finite streak still halts).
     */
    private Decision settle(long step, String why, boolean cut, boolean deeper, Detectors d) {
        double before = schedule.scale();
        double after = schedule.spend(step, cut ? Math.max(config.lrFloor(), schedule.wouldCutTo(deeper)) : before);
        spent = true;
        skipRemaining = 0;
        String detail = why + ": the rollback budget is spent, so the guard settles instead of halting"
                + " (rollback.spent=settle): rolled back from step " + step + " to the snapshot before step " + snapshotStep
                + " for the last time; learning-rate scale " + Guard.fmt(before) + " -> " + Guard.fmt(after)
                + ", held for the rest of the run; from here on only non-finite values, outliers and clipping are acted on";
        return rollBack(step, detail, before, after, d);
    }

    /** @return true once the budget is spent and the guard settled: finite trouble is no longer rolled back */
    boolean spent() {
        return spent;
    }

    /** The halt: its message carries the diagnosis's advice, so the two never disagree. */
    Decision abort(long step, String why, Detectors d) {
        String diagnosis = HaltMessage.text(step, why, lastHealthyStep, d.norm.typical(), maxHealthyNorm,
                firstBadParam, schedule, stable.largest(), recorder.haltAdvice());
        recorder.event(new GuardEvent(step, EventKind.ABORT, diagnosis, firstBadParam,
                Map.of("rollbacks", rollbacks, "lr_scale", schedule.scale())));
        return Decision.abort(diagnosis);
    }

    /**
     * Persistent clipping is folded into the learning rate: when {@code fold.rate} of the last
     * {@value #FOLD_WINDOW} applied steps were clipped, the scale is cut by {@code rollback.cut} (no rollback:
     * the run is not broken, only too fast), the old scale becomes a ceiling, and the count starts again.
     */
    void foldClipping(long step, boolean clippedNow) {
        if (config.policy() != Policy.AUTO || config.foldRate() <= 0) {
            return;
        }
        int at = clipWindowFilled % FOLD_WINDOW;
        if (clipWindowFilled >= FOLD_WINDOW && clipWindow[at]) {
            clipWindowCount--;
        }
        clipWindow[at] = clippedNow;
        clipWindowCount += clippedNow ? 1 : 0;
        clipWindowFilled++;
        if (clipWindowFilled >= FOLD_WINDOW && clipWindowCount >= config.foldRate() * FOLD_WINDOW
                && schedule.scale() * config.rollbackCut() >= config.lrFloor()) {
            double before = schedule.scale();
            stable.unstable(before);
            double after = schedule.lower(step, config.rollbackCut());
            stall.arm();
            String why = clipWindowCount + " of the last " + FOLD_WINDOW + " steps were clipped: learning-rate scale "
                    + Guard.fmt(before) + " -> " + Guard.fmt(after) + " instead of clipping on";
            resetClipWindow();
            lrCut(step, why, before, after);
        }
    }

    /** After a repair, a loss that stopped improving halves the scale (see {@link StallAfterTrouble}). */
    void watchForStall(StepStats s) {
        if (s.lossKnown() && stall.observe(s.loss(), schedule.scale())) {
            double before = schedule.scale();
            double after = schedule.settle(s.step(), StallAfterTrouble.FACTOR);
            String why = "the mean loss stopped improving since the learning rate was cut ("
                    + StallAfterTrouble.PATIENCE + " blocks of " + config.stallSteps() + " steps not below "
                    + Guard.fmt(stall.best()) + " by " + Math.round(StallAfterTrouble.MIN_GAIN * 100) + "%): learning-rate scale "
                    + Guard.fmt(before) + " -> " + Guard.fmt(after);
            lrCut(s.step(), why, before, after);
        }
    }

    /** The scale was lowered without a rollback (a fold or a stall). */
    private void lrCut(long step, String why, double before, double after) {
        recorder.event(new GuardEvent(step, EventKind.LR_CUT, why, null, Map.of("lr_scale_before", before, "lr_scale", after)));
    }

    void resetClipWindow() {
        java.util.Arrays.fill(clipWindow, false);
        clipWindowFilled = 0;
        clipWindowCount = 0;
    }
}
