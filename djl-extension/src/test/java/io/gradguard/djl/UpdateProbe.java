package io.gradguard.djl;

import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.listener.TrainingListenerAdapter;
import ai.djl.training.tracker.ParameterTracker;
import java.util.ArrayList;
import java.util.List;

/**
 * Measures, step by step, the learning rate an optimizer update really used and what the user's schedule said
 * for it. For plain SGD (no momentum, no weight decay) an update is {@code w -= lr · g}, so the rate it used is
 * {@code -<Δw, g> / <g, g>} over every parameter (0 when nothing moved). The schedule is seen through
 * {@link #schedule(ParameterTracker)}, which records the update count and value of each call.
 *
 * <p>With {@code EasyTrain.fit}, add {@link #beforeGuard()} before the guard's listener and {@link #afterGuard()}
 * after it: the first closes the previous step (weights after its update) before the guard may roll back, the
 * second reads the weights and gradients the update starts from, after any rollback.
 */
final class UpdateProbe {

    /** One step: the rate the update used, and the schedule's update count and value (null: not consulted). */
    record Step(double lr, Integer numUpdate, Float scheduled) {}

    private final List<Step> steps = new ArrayList<>();
    private final List<int[]> calls = new ArrayList<>();
    private final List<Float> values = new ArrayList<>();
    private float[][] w0;
    private float[][] g;

    /**
     * @param schedule the user's schedule
     * @return the same schedule, with each call recorded
     */
    ParameterTracker schedule(ParameterTracker schedule) {
        return (id, n) -> {
            float v = schedule.getNewValue(id, n);
            calls.add(new int[] {n});
            values.add(v);
            return v;
        };
    }

    /** @return the measured steps, in order */
    List<Step> steps() {
        return steps;
    }

    /**
     * Reads the weights and gradients the step's update starts from.
     *
     * @param t the trainer, after backward
     */
    void before(Trainer t) {
        w0 = ListenerRuns.weights(t.getModel());
        g = ListenerRuns.gradients(t);
        calls.clear();
        values.clear();
    }

    /**
     * Closes the step: the rate its update used, and what the schedule said.
     *
     * @param t the trainer, after the update
     */
    void after(Trainer t) {
        if (w0 == null) {
            return;
        }
        float[][] w1 = ListenerRuns.weights(t.getModel());
        double dot = 0;
        double gg = 0;
        for (int i = 0; i < w0.length; i++) {
            for (int k = 0; k < w0[i].length; k++) {
                dot += ((double) w1[i][k] - w0[i][k]) * g[i][k];
                gg += (double) g[i][k] * g[i][k];
            }
        }
        Integer n = null;
        Float v = null;
        for (int c = 0; c < calls.size(); c++) {
            // one call per parameter, all with the same count and value
            if (n != null && (calls.get(c)[0] != n || !values.get(c).equals(v))) {
                throw new AssertionError("one update, several schedule values: " + n + "=" + v + " and "
                        + calls.get(c)[0] + "=" + values.get(c));
            }
            n = calls.get(c)[0];
            v = values.get(c);
        }
        steps.add(new Step(-dot / gg, n, v));
        w0 = null;
    }

    /** @return a listener that closes the previous step; add it before the guard */
    TrainingListener beforeGuard() {
        return new TrainingListenerAdapter() {
            @Override
            public void onTrainingBatch(Trainer trainer, BatchData batchData) {
                after(trainer);
            }

            @Override
            public void onEpoch(Trainer trainer) {
                after(trainer);
            }
        };
    }

    /** @return a listener that opens the step; add it after the guard */
    TrainingListener afterGuard() {
        return new TrainingListenerAdapter() {
            @Override
            public void onTrainingBatch(Trainer trainer, BatchData batchData) {
                before(trainer);
            }
        };
    }
}
