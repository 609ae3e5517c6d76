package io.gradguard.djl.internal;

/**
 * What a deferred evaluator listener asks the guard about the batch it holds back: whether the guard acts at all,
 * whether it applied the update of that batch, and where to report a batch it lost. {@link DjlGuardSession}
 * answers; the listener knows only this, so the two do not depend on each other.
 */
interface BatchVerdicts {

    /** @return whether the guard changes steps (policy auto or clip, and still working) */
    boolean acts();

    /**
     * @param batch the listeners' batch data
     * @return whether the guard applied the update of that batch, or null when it has not decided on it
     */
    Boolean appliedFor(Object batch);

    /** A deferred batch was closed before the guard decided on it: its evaluator update is lost. */
    void lostEvaluatorBatch();
}
