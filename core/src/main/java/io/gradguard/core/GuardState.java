package io.gradguard.core;

import java.util.EnumSet;
import java.util.Set;

/**
 * The state of a guard, an explicit state machine. Legal transitions:
 *
 * <pre>
 * HEALTHY    → CLIPPING, SKIPPING, RECOVERING, HALTED
 * CLIPPING   → HEALTHY, SKIPPING, RECOVERING, HALTED
 * SKIPPING   → HEALTHY, CLIPPING, RECOVERING, HALTED
 * RECOVERING → HEALTHY, CLIPPING, SKIPPING, HALTED
 * HALTED     → (none)
 * </pre>
 *
 * <p>Staying in a state is always legal.
 */
public enum GuardState {
    /** Steps go through untouched. */
    HEALTHY,
    /** The last step was clipped. */
    CLIPPING,
    /** The last step was skipped (non-finite or outlier). */
    SKIPPING,
    /** Rolled back; the learning-rate scale is cut and re-warming. */
    RECOVERING,
    /** The guard gave up; no further step is accepted. */
    HALTED;

    private Set<GuardState> next() {
        return switch (this) {
            case HEALTHY -> EnumSet.of(CLIPPING, SKIPPING, RECOVERING, HALTED);
            case CLIPPING -> EnumSet.of(HEALTHY, SKIPPING, RECOVERING, HALTED);
            case SKIPPING -> EnumSet.of(HEALTHY, CLIPPING, RECOVERING, HALTED);
            case RECOVERING -> EnumSet.of(HEALTHY, CLIPPING, SKIPPING, HALTED);
            case HALTED -> EnumSet.noneOf(GuardState.class);
        };
    }

    /**
     * Checks a transition.
     *
     * @param target the next state
     * @return the target
     * @throws IllegalStateException naming both states when the transition is not legal
     */
    public GuardState to(GuardState target) {
        if (target != this && !next().contains(target)) {
            throw new IllegalStateException("GradGuard state cannot go from " + this + " to " + target);
        }
        return target;
    }
}
