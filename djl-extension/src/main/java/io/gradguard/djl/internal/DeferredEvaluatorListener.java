package io.gradguard.djl.internal;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.Trainer;
import ai.djl.training.listener.EvaluatorTrainingListener;
import java.util.List;
import java.util.Map;

/**
 * Stands in for DJL's {@link EvaluatorTrainingListener} while GradGuard acts, so that the batches the
 * guard did not train on (skipped, rolled back) do not enter the epoch's loss and metrics: one NaN batch
 * would otherwise make the whole epoch's reported loss NaN although the run was saved. A batch is handed
 * to the original listener once the guard has decided on it: at once when the guard decided first,
 * otherwise when the decision comes ({@link #decided(boolean)}). A batch whose decision never comes is handed
 * on as trained on when its step runs without one: when the guard turns itself off (an internal error), or when
 * {@code Trainer.step()} runs (the gated parameter server tells the session). Failing those, it is handed on
 * before the next batch or at the end of the epoch if it is still open; a batch already closed is dropped (with
 * one warning) rather than handed to DJL's evaluators, which would throw on its freed arrays.
 */
public final class DeferredEvaluatorListener extends EvaluatorTrainingListener {

    private final EvaluatorTrainingListener original;
    private volatile BatchVerdicts session;
    private Trainer pendingTrainer;
    private BatchData pending;

    /**
     * @param original DJL's evaluator listener
     * @param session the guard that decides
     */
    DeferredEvaluatorListener(EvaluatorTrainingListener original, BatchVerdicts session) {
        this.original = original;
        this.session = session;
    }

    /**
     * Answers to another guard from now on (one that took the trainer over).
     *
     * @param newSession the guard that decides now
     */
    void retarget(BatchVerdicts newSession) {
        this.session = newSession;
    }

    /** @return the wrapped listener */
    public EvaluatorTrainingListener original() {
        return original;
    }

    /**
     * The original's evaluations, so that {@code Trainer.getTrainingResult()}, which looks for an
     * {@code EvaluatorTrainingListener}, still finds them.
     *
     * @return the latest evaluations
     */
    @Override
    public Map<String, Float> getLatestEvaluations() {
        return original.getLatestEvaluations();
    }

    @Override
    public void onTrainingBatch(Trainer trainer, BatchData batchData) {
        flush(true);
        if (!session.acts()) {
            original.onTrainingBatch(trainer, batchData);
            return;
        }
        Boolean applied = session.appliedFor(batchData);
        if (applied != null) {
            if (applied) {
                original.onTrainingBatch(trainer, batchData);
            }
            return;
        }
        pendingTrainer = trainer;
        pending = batchData;
    }

    /**
     * The guard decided on the current batch.
     *
     * @param applied whether the update was applied (step or clip)
     */
    void decided(boolean applied) {
        flush(applied);
    }

    private void flush(boolean applied) {
        if (pending != null) {
            BatchData b = pending;
            Trainer t = pendingTrainer;
            pending = null;
            pendingTrainer = null;
            if (!applied) {
                return;
            }
            if (open(b)) {
                original.onTrainingBatch(t, b);
            } else {
                session.lostEvaluatorBatch();
            }
        }
    }

    private static boolean open(BatchData b) {
        for (Map<Device, NDList> side : List.of(b.getLabels(), b.getPredictions())) {
            for (NDList list : side.values()) {
                for (NDArray a : list) {
                    if (a.isReleased()) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    @Override
    public void onEpoch(Trainer trainer) {
        flush(true);
        original.onEpoch(trainer);
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
        flush(true);
        original.onTrainingEnd(trainer);
    }
}
