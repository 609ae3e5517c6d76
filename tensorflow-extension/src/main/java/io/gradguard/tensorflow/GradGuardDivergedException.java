package io.gradguard.tensorflow;

/**
 * Thrown when GradGuard gives up on a TensorFlow run it cannot save. Its message is the diagnosis: what
 * exploded where, and what to change. Before it is thrown, the variables and optimizer state are put
 * back to the last healthy snapshot (when there is one), so the model in the session is usable.
 */
public class GradGuardDivergedException extends IllegalStateException {

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
