package io.gradguard.djl;

import ai.djl.TrainingDivergedException;
import io.gradguard.core.GuardHalt;
import io.gradguard.core.diagnose.RunDiagnosis;

/**
 * Thrown when GradGuard gives up on a run it cannot save. It extends DJL's
 * {@link TrainingDivergedException}, so handlers written for DJL's own divergence check still catch it;
 * its message is the diagnosis: what exploded where, and what to change. When it is thrown, the parameters and
 * the optimizer state are back at the last healthy snapshot (if one was taken), so a model saved afterwards (by
 * DJL's {@code SaveModelTrainingListener} when the trainer closes, say) is the healthy one.
 */
public class GradGuardDivergedException extends TrainingDivergedException implements GuardHalt {

    private static final long serialVersionUID = 1L;

    private final Details details;

    /**
     * @param step the step at which the run was halted
     * @param reason what went wrong and what to change
     * @param diagnosis the guard's diagnosis of the run (appended to the message), or null
     */
    public GradGuardDivergedException(long step, String reason, RunDiagnosis diagnosis) {
        this(new Details(step, reason, diagnosis));
    }

    private GradGuardDivergedException(Details details) {
        super(details.message());
        this.details = details;
    }

    @Override
    public Details details() {
        return details;
    }
}
