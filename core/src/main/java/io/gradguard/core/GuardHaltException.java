package io.gradguard.core;

import io.gradguard.core.diagnose.RunDiagnosis;

/**
 * The halt exception of an engine adapter whose callers expect no particular exception type: it carries the
 * {@link GuardHalt.Details} once, and the engine's own exception only names itself (TensorFlow Java's
 * {@code io.gradguard.tensorflow.GradGuardDivergedException} is one). DJL's cannot be one: it must extend
 * DJL's {@code TrainingDivergedException}, so it implements {@link GuardHalt} on its own.
 */
public abstract class GuardHaltException extends IllegalStateException implements GuardHalt {

    private static final long serialVersionUID = 1L;

    private final Details details;

    /**
     * @param step the step at which the run was halted
     * @param reason what went wrong and what to change
     * @param diagnosis the guard's diagnosis of the run (appended to the message), or null
     */
    protected GuardHaltException(long step, String reason, RunDiagnosis diagnosis) {
        this(new Details(step, reason, diagnosis));
    }

    private GuardHaltException(Details details) {
        super(details.message());
        this.details = details;
    }

    @Override
    public Details details() {
        return details;
    }
}
