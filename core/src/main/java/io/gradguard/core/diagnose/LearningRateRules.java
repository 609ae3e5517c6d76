package io.gradguard.core.diagnose;

import static io.gradguard.core.diagnose.FindingText.fmt;

import io.gradguard.core.event.EventKind;
import io.gradguard.core.event.GuardEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Findings on the learning rate and its schedule: {@code learning_rate} (too high, and what to use instead: the
 * largest scale that held, the lowest where instability showed, the range test's suggestion; or not the cause at
 * all) and {@code warmup} (trouble early in a run whose rate is otherwise about right).
 */
final class LearningRateRules {

    /** Healthy steps in a row at one learning-rate scale that count as "stable at that scale". */
    static final int STABLE_STREAK = StableScales.WINDOW;

    private LearningRateRules() {}

    static Optional<Finding> learningRate(RunObservations o, boolean needed) {
        List<String> ev = new ArrayList<>();
        String headline;
        String advice;
        long rollbacks = o.rollbacks();
        long steps = o.steps();
        long heldBack = o.clipped() + o.skipped();
        double lastScale = o.lastScale();
        GuardEvent first = o.first();
        LrRange lrRange = o.lrRange();
        StableScales stable = o.stable();
        double maxStableScale = stable.largest();
        if ((rollbacks > 0 || o.halted()) && Double.isNaN(maxStableScale) && lastScale < 0.05) {
            ev.add(rollbacks + " rollback(s) cut the learning-rate scale to " + fmt(lastScale)
                    + " and no scale held for " + STABLE_STREAK + " healthy steps");
            headline = "Learning rate: not the cause; the run diverged at every learning rate tried, down to "
                    + fmt(lastScale) + "x yours.";
            advice = "fix the model's initialization or structure, or the data, first (see the other findings); then"
                    + " tune the learning rate.";
        } else if (rollbacks > 0 || o.halted()) {
            ev.add(rollbacks + " rollback(s), each cutting the learning-rate scale; final scale " + fmt(lastScale));
            if (!Double.isNaN(maxStableScale)) {
                ev.add("largest scale that held for " + STABLE_STREAK + " healthy steps in a row (no clip, no spike) and"
                        + " stayed below every scale where instability showed: " + fmt(maxStableScale));
                headline = String.format(Locale.ROOT, "Learning rate: too high for this model; the largest stable learning"
                        + " rate seen was about %sx yours.", fmt(maxStableScale));
                advice = "set the learning rate to about " + fmt(maxStableScale / 2) + "x yours (half the largest stable"
                        + " rate, for headroom).";
            } else {
                double lowest = Math.min(stable.ceiling(), lastScale);
                ev.add("no scale held " + STABLE_STREAK + " healthy steps in a row below the lowest scale where"
                        + " instability showed (" + fmt(stable.ceiling()) + ")");
                headline = String.format(Locale.ROOT, "Learning rate: too high for this model; instability showed at"
                        + " every scale that ran long enough to tell, down to %sx yours.", fmt(lowest));
                advice = "set the learning rate to at most " + fmt(lowest / 2) + "x yours (half the lowest scale where"
                        + " instability showed).";
            }
        } else if (needed && steps > 0 && heldBack * 50 >= steps) {
            ev.add(String.format(Locale.ROOT, "%d clipped and %d skipped of %d steps (%.1f%%)", o.clipped(), o.skipped(),
                    steps, 100.0 * heldBack / steps));
            headline = "Learning rate: probably too high; the guard had to hold back "
                    + String.format(Locale.ROOT, "%.1f%%", 100.0 * heldBack / steps) + " of the steps.";
            advice = "try half your learning rate, or keep it and a clip threshold.";
        } else if (steps > 0 && o.nonFinite() * 10 >= steps && first != null) {
            // a run nobody acted on (policy monitor or off): it went non-finite and stayed there
            ev.add(o.nonFinite() + " of " + steps + " steps had a non-finite loss or gradient, from step " + first.step()
                    + " on");
            headline = "Learning rate: probably too high; the run went non-finite at step " + first.step()
                    + " and did not recover.";
            advice = "lower the learning rate (try a third to a tenth of it) or run the learning-rate range test; with"
                    + " policy auto GradGuard would have rolled back and cut it for you.";
        } else if (lrRange == null) {
            return Optional.empty();
        } else {
            headline = "Learning rate: the range test's suggestion.";
            advice = "";
        }
        if (lrRange != null) {
            ev.add("learning-rate range test (" + fmt(lrRange.minLr()) + " to " + fmt(lrRange.maxLr()) + "): loss diverged at "
                    + (Double.isNaN(lrRange.divergenceLr()) ? "no rate tried" : fmt(lrRange.divergenceLr()))
                    + ", suggested " + fmt(lrRange.suggestedLr()));
            advice = (advice.isEmpty() ? "" : advice + " ") + "The range test suggests " + fmt(lrRange.suggestedLr()) + ".";
        }
        return Optional.of(new Finding("learning_rate", headline, advice, ev));
    }

    static Optional<Finding> warmup(RunObservations o) {
        GuardEvent first = o.first();
        List<Long> oneOff = o.oneOff();
        if (first == null || first.kind() == EventKind.WARNING || !oneOff.isEmpty() && oneOff.get(0) == first.step()) {
            return Optional.empty();
        }
        long at = first.step();
        long steps = o.steps();
        long rollbacks = o.rollbacks();
        StableScales stable = o.stable();
        double maxStableScale = stable.largest();
        boolean rateAlmostFine = rollbacks == 0 || (!Double.isNaN(maxStableScale) && maxStableScale >= 0.5)
                || stable.ceiling() >= 0.5 && o.lastScale() >= 0.25;
        if (at >= Math.max(200, steps / 10) || !rateAlmostFine) {
            return Optional.empty();
        }
        long w = Math.min(2000, Math.max(100, ((4 * at + 99) / 100) * 100));
        return Optional.of(new Finding("warmup", "Warm-up: the trouble began at step " + at + " of " + steps
                + ", before the optimizer's statistics and the weights had settled.",
                "ramp the learning rate up linearly from near zero over about " + w + " steps.",
                List.of("first trouble event at step " + at + (rollbacks > 0 && !Double.isNaN(maxStableScale) ? "; later the run held "
                        + fmt(maxStableScale) + "x the learning rate for " + STABLE_STREAK + " healthy steps" : ""))));
    }
}
