package io.gradguard.djl;

import ai.djl.TrainingDivergedException;

/**
 * Thrown when GradGuard gives up on a run it cannot save. It extends DJL's
 * {@link TrainingDivergedException}, so handlers written for DJL's own divergence check still catch it;
 * its message is the diagnosis: what exploded where, and what to change. When it is thrown, the parameters and
 * the optimizer state are back at the last healthy snapshot (if one was taken), so a model saved afterwards (by
 * DJL's {@code SaveModelTrainingListener} when the trainer closes, say) is the healthy one.
 */
public class GradGuardDivergedException extends TrainingDivergedException {

    private static final long serialVersionUID = 1L;

    private final long step;
    private final transient io.gradguard.core.diagnose.RunDiagnosis diagnosis;

    /**
     * @param step the step at which the run was halted
     * @param reason what went wrong and what to change
     */
    public GradGuardDivergedException(long step, String reason) {
        this(step, reason, null);
    }

    /**
     * @param step the step at which the run was halted
     * @param reason what went wrong and what to change
     * @param diagnosis the guard's diagnosis of the run (appended to the message), or null
     */
    public GradGuardDivergedException(long step, String reason, io.gradguard.core.diagnose.RunDiagnosis diagnosis) {
        super(diagnosis == null ? reason : reason + "\n" + diagnosis.text());
        this.step = step;
        this.diagnosis = diagnosis;
    }

    /**
     * @return the guard's diagnosis of the run: where it started, what in the model or data made it likely,
     *     and the learning rate, warm-up and clip threshold to use (null when not available)
     */
    public io.gradguard.core.diagnose.RunDiagnosis diagnosis() {
        return diagnosis;
    }

    /** @return the step at which the run was halted */
    public long step() {
        return step;
    }
}
