package io.gradguard.core;

import java.util.EnumSet;
import java.util.Set;

/**
 * The state of a guard, an explicit state machine. Legal transitions:
 *
 * <pre>
 * HEALTHY    → CLIPPING, SKIPPING, HALTED
 * CLIPPING   → HEALTHY, SKIPPING, HALTED
 * SKIPPING   → HEALTHY, CLIPPING, HALTED
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
    /** The guard gave up; no further step is accepted. */
    HALTED;

    private Set<GuardState> next() {
        return switch (this) {
            case HEALTHY -> EnumSet.of(CLIPPING, SKIPPING, HALTED);
            case CLIPPING -> EnumSet.of(HEALTHY, SKIPPING, HALTED);
            case SKIPPING -> EnumSet.of(HEALTHY, CLIPPING, HALTED);
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
