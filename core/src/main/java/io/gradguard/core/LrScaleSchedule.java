package io.gradguard.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The learning-rate scale the guard lays over the user's own schedule. It starts at 1. A rollback
 * multiplies it by the cut factor and remembers the scale at which the run exploded as a ceiling; the
 * scale then re-warms linearly over {@code rewarmSteps} healthy steps towards
 * {@code rewarmTarget x ceiling} (after a deeper cut, at most one plain cut above the new scale), never back
 * up to a scale that already exploded. An explosion during the
 * re-warm cuts again (and lowers the ceiling), so a learning rate that is far too high settles at a
 * stable scale instead of bouncing between rollbacks.
 */
public final class LrScaleSchedule {

    /**
     * One change of the scale.
     *
     * @param step the step at which it happened
     * @param scale the new scale
     * @param why {@code cut} (a rollback), {@code rewarmed}, {@code held} (re-warm stopped by a clipped spike),
     *     {@code lowered} (persistent clipping, without a rollback), {@code settled} (no progress after a cut) or
     *     {@code spent} (the last rollback of a spent budget: held there for the rest of the run)
     */
    public record Change(long step, double scale, String why) {}

    private final double cut;
    private final int rewarmSteps;
    private final double rewarmTarget;
    private final List<Change> history = new ArrayList<>();

    private double scale = 1.0;
    private double ceiling = Double.POSITIVE_INFINITY;
    private double from = 1.0;
    private double target = 1.0;
    private int healthy;

    /**
     * @param cut factor applied at each rollback, in (0, 1)
     * @param rewarmSteps healthy steps to re-warm over (0: no re-warm)
     * @param rewarmTarget fraction of the ceiling to re-warm to, in (0, 1)
     */
    public LrScaleSchedule(double cut, int rewarmSteps, double rewarmTarget) {
        this.cut = cut;
        this.rewarmSteps = rewarmSteps;
        this.rewarmTarget = rewarmTarget;
    }

    /** @return the scale in force */
    public double scale() {
        return scale;
    }

    /** @return the lowest scale at which the run exploded or needed its spikes clipped; +infinity when it never did */
    public double ceiling() {
        return ceiling;
    }

    /** @return the scale the re-warm is heading to (the scale itself when it is not re-warming) */
    public double target() {
        return Math.max(target, scale);
    }

    /**
     * Instability showed at the current scale without a rollback (a spike had to be clipped): remember the
     * scale as a ceiling and, when re-warming, stop here instead of climbing back into it.
     *
     * @param step the step
     */
    public void unstable(long step) {
        ceiling = Math.min(ceiling, scale);
        if (scale < target) {
            target = scale;
            from = scale;
            history.add(new Change(step, scale, "held"));
        }
    }

    /**
     * Lowers the scale without a rollback (the guard folds persistent clipping into it): the old scale
     * becomes a ceiling and no re-warm follows.
     *
     * @param step the step
     * @param factor the factor, in (0, 1)
     * @return the new scale
     */
    public double lower(long step, double factor) {
        ceiling = Math.min(ceiling, scale);
        return hold(step, factor, "lowered");
    }

    /**
     * Lowers the scale because the run stopped making progress at it (not because it was unstable): the
     * ceiling stays, and no re-warm follows.
     *
     * @param step the step
     * @param factor the factor, in (0, 1)
     * @return the new scale
     */
    public double settle(long step, double factor) {
        return hold(step, factor, "settled");
    }

    /**
     * The rollback budget is spent: the scale that failed becomes a ceiling, and the scale is held at
     * {@code to} (no higher than now) for the rest of the run, with no re-warm.
     *
     * @param step the step of the last rollback
     * @param to the scale to hold, in (0, scale]
     * @return the new scale
     */
    public double spend(long step, double to) {
        ceiling = Math.min(ceiling, scale);
        return hold(step, Math.min(1.0, to / scale), "spent");
    }

    /** Multiplies the scale by {@code factor} and holds it there: no re-warm follows. */
    private double hold(long step, double factor, String why) {
        scale *= factor;
        from = scale;
        target = scale;
        healthy = 0;
        history.add(new Change(step, scale, why));
        return scale;
    }

    /** @return every change so far, oldest first */
    public List<Change> history() {
        return Collections.unmodifiableList(history);
    }

    /**
     * The scale a cut would give, without cutting.
     *
     * @param deeper whether the cut is squared (see {@link #cut(long, boolean)})
     * @return scale x cut, or scale x cut^2
     */
    public double wouldCutTo(boolean deeper) {
        return scale * (deeper ? cut * cut : cut);
    }

    /**
     * The run exploded at the current scale: remember it as the ceiling and cut.
     *
     * @param step the step of the rollback
     * @param deeper square the cut: the run exploded again before making healthy progress since the
     *     last rollback, so the learning rate is far too high and halving it step by step would only
     *     waste rollbacks (and early training steps, where a still-unstable rate does the most damage)
     * @return the new scale
     */
    public double cut(long step, boolean deeper) {
        ceiling = Math.min(ceiling, scale);
        scale = wouldCutTo(deeper);
        from = scale;
        // Re-warm towards a fraction of the ceiling, but after a deeper cut no higher than one plain cut
        // above the new scale: the rate that exploded twice in a row was far off, not marginally off.
        target = Math.max(scale, Math.min(Math.min(1.0, ceiling * rewarmTarget), scale / cut));
        healthy = 0;
        history.add(new Change(step, scale, "cut"));
        return scale;
    }

    /**
     * One healthy step: re-warm a little.
     *
     * @param step the step
     */
    public void healthyStep(long step) {
        if (scale >= target) {
            return;
        }
        healthy++;
        double next = rewarmSteps == 0 ? target : from + (target - from) * Math.min(1.0, (double) healthy / rewarmSteps);
        scale = Math.min(next, target);
        if (scale >= target) {
            history.add(new Change(step, scale, "rewarmed"));
        }
    }

    /** @return the history as text, e.g. {@code 1 -> 0.5 (step 12) -> 0.375 rewarmed (step 112)} */
    public String describe() {
        StringBuilder sb = new StringBuilder("1");
        for (Change c : history) {
            sb.append(" -> ").append(Guard.fmt(c.scale())).append(c.why().equals("cut") ? "" : " " + c.why())
                    .append(" (step ").append(c.step()).append(')');
        }
        return sb.toString();
    }
}
