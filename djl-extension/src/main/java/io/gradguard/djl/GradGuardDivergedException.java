package io.gradguard.djl;

import ai.djl.TrainingDivergedException;

/**
 * Thrown when GradGuard gives up on a run it cannot save. It extends DJL's
 * {@link TrainingDivergedException}, so handlers written for DJL's own divergence check still catch it;
 * its message is the diagnosis: what exploded where, and what to change.
 */
public class GradGuardDivergedException extends TrainingDivergedException {

    private static final long serialVersionUID = 1L;

    private final long step;

    /**
     * @param step the step at which the run was halted
     * @param diagnosis what went wrong and what to change
     */
    public GradGuardDivergedException(long step, String diagnosis) {
        super(diagnosis);
        this.step = step;
    }

    /** @return the step at which the run was halted */
    public long step() {
        return step;
    }
}
