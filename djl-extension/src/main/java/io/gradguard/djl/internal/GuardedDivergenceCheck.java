package io.gradguard.djl.internal;

import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListener;
import java.util.function.BooleanSupplier;

/**
 * Stands in for DJL's {@code DivergenceCheckTrainingListener} while GradGuard acts on the run: DJL's
 * check throws on the first NaN loss, which would kill a run that GradGuard is about to save by
 * skipping the step. While the guard acts, it stays silent (GradGuard halts with its own
 * {@code GradGuardDivergedException}, a {@code TrainingDivergedException}, when the run cannot be
 * saved); otherwise it delegates to the original.
 */
public final class GuardedDivergenceCheck implements TrainingListener {

    private final TrainingListener original;
    private volatile BooleanSupplier guardActs;

    /**
     * @param original DJL's divergence check
     * @param guardActs whether GradGuard is acting on the run now
     */
    public GuardedDivergenceCheck(TrainingListener original, BooleanSupplier guardActs) {
        this.original = original;
        this.guardActs = guardActs;
    }

    /**
     * Answers to another guard from now on (one that took the trainer over).
     *
     * @param acts whether that guard acts on the run now
     */
    public void retarget(BooleanSupplier acts) {
        this.guardActs = acts;
    }

    /** @return the wrapped listener */
    public TrainingListener original() {
        return original;
    }

    @Override
    public void onEpoch(Trainer trainer) {
        original.onEpoch(trainer);
    }

    @Override
    public void onTrainingBatch(Trainer trainer, BatchData batchData) {
        if (!guardActs.getAsBoolean()) {
            original.onTrainingBatch(trainer, batchData);
        }
    }

    @Override
    public void onValidationBatch(Trainer trainer, BatchData batchData) {
        original.onValidationBatch(trainer, batchData);
    }

    @Override
    public void onTrainingBegin(Trainer trainer) {
        original.onTrainingBegin(trainer);
    }

    @Override
    public void onTrainingEnd(Trainer trainer) {
        original.onTrainingEnd(trainer);
    }
}
