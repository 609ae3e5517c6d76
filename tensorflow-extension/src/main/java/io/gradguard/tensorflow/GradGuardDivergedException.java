package io.gradguard.tensorflow;

import io.gradguard.core.GuardHaltException;
import io.gradguard.core.diagnose.RunDiagnosis;

/**
 * Thrown when GradGuard gives up on a TensorFlow run it cannot save. Its message is the diagnosis: what
 * exploded where, and what to change. Before it is thrown, the variables and optimizer state are put
 * back to the last healthy snapshot (when there is one), so the model in the session is usable. It is an
 * {@link IllegalStateException} and a {@link io.gradguard.core.GuardHalt}.
 */
public class GradGuardDivergedException extends GuardHaltException {

    private static final long serialVersionUID = 1L;

    /**
     * @param step the step at which the run was halted
     * @param reason what went wrong and what to change
     * @param diagnosis the guard's diagnosis of the run (appended to the message), or null
     */
    public GradGuardDivergedException(long step, String reason, RunDiagnosis diagnosis) {
        super(step, reason, diagnosis);
    }
}
