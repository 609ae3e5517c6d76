package io.gradguard.core;

import java.util.Objects;

/**
 * The guard's verdict on one step, for the adapter to carry out. Immutable.
 */
public final class Decision {

    private static final Decision STEP = new Decision(Action.STEP, 1.0, "", false, 1.0);
    private static final Decision STEP_AND_SNAPSHOT = new Decision(Action.STEP, 1.0, "", true, 1.0);

    private final Action action;
    private final double clipCoef;
    private final String reason;
    private final boolean snapshot;
    private final double lrScale;

    private Decision(Action action, double clipCoef, String reason, boolean snapshot, double lrScale) {
        this.action = action;
        this.clipCoef = clipCoef;
        this.reason = reason;
        this.snapshot = snapshot;
        this.lrScale = lrScale;
    }

    /** @return apply the update unchanged */
    public static Decision step() {
        return STEP;
    }

    /**
     * @return snapshot the parameters and optimizer state as they are now (before this step's update),
     *     then apply the update unchanged
     */
    public static Decision stepAndSnapshot() {
        return STEP_AND_SNAPSHOT;
    }

    /**
     * @param coef the factor to scale the gradients by, in (0, 1]
     * @param reason why
     * @return scale the gradients, then apply the update
     */
    public static Decision clip(double coef, String reason) {
        return clip(coef, reason, false);
    }

    /**
     * A clip that may also snapshot: after a rollback every step is capped ({@link StepPlan#capTo()}), and a step
     * that was only capped is a healthy one, whose pre-update state may be the next snapshot.
     *
     * @param coef the factor to scale the gradients by, in (0, 1]
     * @param reason why
     * @param snapshot snapshot the parameters and optimizer state before the update
     * @return (snapshot, then) scale the gradients, then apply the update
     */
    public static Decision clip(double coef, String reason, boolean snapshot) {
        if (!(coef > 0 && coef <= 1)) {
            throw new IllegalArgumentException("clip coefficient must be in (0, 1], but was " + coef);
        }
        return new Decision(Action.CLIP, coef, reason, snapshot, 1.0);
    }

    /**
     * @param reason why
     * @return zero the gradients, leave parameters and optimizer state untouched
     */
    public static Decision skip(String reason) {
        return new Decision(Action.SKIP, 0.0, reason, false, 1.0);
    }

    /**
     * @param lrScale the learning-rate scale in force from the next step
     * @param reason why
     * @return restore the last snapshot (parameters and optimizer state), zero the gradients, apply the
     *     new learning-rate scale
     */
    public static Decision rollback(double lrScale, String reason) {
        return new Decision(Action.ROLLBACK, 0.0, reason, false, lrScale);
    }

    /**
     * @param diagnosis what went wrong and what to change
     * @return stop the run
     */
    public static Decision abort(String diagnosis) {
        return new Decision(Action.ABORT, 0.0, Objects.requireNonNull(diagnosis), false, 1.0);
    }

    /** @return the action */
    public Action action() {
        return action;
    }

    /** @return the gradient scale factor: 1 for STEP, the coefficient for CLIP, 0 otherwise */
    public double clipCoef() {
        return clipCoef;
    }

    /** @return why (empty for a plain step); the diagnosis for ABORT */
    public String reason() {
        return reason;
    }

    /** @return true when the adapter should snapshot before applying this step */
    public boolean snapshot() {
        return snapshot;
    }

    /** @return for ROLLBACK, the new learning-rate scale */
    public double lrScale() {
        return lrScale;
    }

    /** @return true when the update is applied (STEP or CLIP) */
    public boolean applies() {
        return action == Action.STEP || action == Action.CLIP;
    }

    @Override
    public String toString() {
        return switch (action) {
            case STEP -> snapshot ? "STEP+SNAPSHOT" : "STEP";
            case CLIP -> "CLIP(" + clipCoef + ": " + reason + ")" + (snapshot ? "+SNAPSHOT" : "");
            case ROLLBACK -> "ROLLBACK(lr scale " + lrScale + ": " + reason + ")";
            default -> action + "(" + reason + ")";
        };
    }
}
