package io.gradguard.tensorflow;

import io.gradguard.core.GuardHalt;
import io.gradguard.core.diagnose.RunDiagnosis;

/**
 * Thrown when GradGuard gives up on a TensorFlow run it cannot save. Its message is the diagnosis: what
 * exploded where, and what to change. Before it is thrown, the variables and optimizer state are put
 * back to the last healthy snapshot (when there is one), so the model in the session is usable.
 */
public class GradGuardDivergedException extends IllegalStateException implements GuardHalt {

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
