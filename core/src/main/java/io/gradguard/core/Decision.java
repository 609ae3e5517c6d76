package io.gradguard.core;

import java.util.Objects;

/**
 * The guard's verdict on one step, for the adapter to carry out. Immutable.
 */
public final class Decision {

    private static final Decision STEP = new Decision(Action.STEP, 1.0, "");

    private final Action action;
    private final double clipCoef;
    private final String reason;

    private Decision(Action action, double clipCoef, String reason) {
        this.action = action;
        this.clipCoef = clipCoef;
        this.reason = reason;
    }

    /** @return apply the update unchanged */
    public static Decision step() {
        return STEP;
    }

    /**
     * @param coef the factor to scale the gradients by, in (0, 1)
     * @param reason why
     * @return scale the gradients, then apply the update
     */
    public static Decision clip(double coef, String reason) {
        if (!(coef > 0 && coef <= 1)) {
            throw new IllegalArgumentException("clip coefficient must be in (0, 1], but was " + coef);
        }
        return new Decision(Action.CLIP, coef, reason);
    }

    /**
     * @param reason why
     * @return zero the gradients, leave parameters and optimizer state untouched
     */
    public static Decision skip(String reason) {
        return new Decision(Action.SKIP, 0.0, reason);
    }

    /**
     * @param diagnosis what went wrong and what to change
     * @return stop the run
     */
    public static Decision abort(String diagnosis) {
        return new Decision(Action.ABORT, 0.0, Objects.requireNonNull(diagnosis));
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

    @Override
    public String toString() {
        return switch (action) {
            case STEP -> "STEP";
            case CLIP -> "CLIP(" + clipCoef + ": " + reason + ")";
            default -> action + "(" + reason + ")";
        };
    }
}
