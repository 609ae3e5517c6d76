package io.gradguard.benchmarks.family;

/**
 * What one training run of a set-up ended with.
 *
 * @param loss the final evaluation loss (NaN when it diverged or halted)
 * @param halted whether the policy stopped the run (GradGuard's deliberate halt)
 * @param interventions steps the policy changed: clipped, skipped, rejected, or a learning-rate change
 * @param rollbacks rollbacks (GradGuard only)
 * @param redone steps whose progress a rollback threw away (trained again on new batches)
 * @param lrScale the learning-rate scale the policy ended at (1 when it never changes it)
 * @param seconds wall time of the run
 * @param events what GradGuard logged, as {@code kind:count} pairs joined by {@code ;} (empty for anchors)
 */
public record Outcome(float loss, boolean halted, long interventions, long rollbacks, long redone, double lrScale,
        double seconds, String events) {

    /** An outcome with no events (the anchors). */
    public Outcome(float loss, boolean halted, long interventions, long rollbacks, long redone, double lrScale,
            double seconds) {
        this(loss, halted, interventions, rollbacks, redone, lrScale, seconds, "");
    }
}
