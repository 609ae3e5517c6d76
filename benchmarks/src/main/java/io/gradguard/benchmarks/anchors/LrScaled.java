package io.gradguard.benchmarks.anchors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.Trainer;
import ai.djl.training.optimizer.Optimizer;
import io.gradguard.djl.internal.GradientInspector;
import io.gradguard.djl.internal.OptimizerAccess;
import io.gradguard.models.ScenarioRun;

/**
 * Base of the anchors that change the learning rate: lays a scale over the optimizer's own schedule (the
 * same hook GradGuard uses) and counts how often the scale changed, so that a change on a healthy run
 * counts as a false alarm.
 */
public abstract class LrScaled implements ScenarioRun.Stepper {

    private static final NDIndex ALL = new NDIndex("...");

    private double scale = 1.0;
    private long changes;
    private Trainer bound;
    private GradientInspector inspector;

    /** @return the learning-rate scale in force */
    public double scale() {
        return scale;
    }

    /** @return how many times the scale was changed */
    public long changes() {
        return changes;
    }

    /**
     * Sets the scale for the following updates.
     *
     * @param s the new scale
     */
    protected void setScale(double s) {
        if (s != scale) {
            changes++;
        }
        scale = s;
    }

    /**
     * Binds to the trainer on its first step: wraps the optimizer's learning-rate tracker.
     *
     * @param trainer the trainer
     * @return the trainer's parameters
     */
    protected GradientInspector bind(Trainer trainer) {
        if (bound != trainer) {
            bound = trainer;
            Optimizer optimizer = OptimizerAccess.optimizer(trainer);
            if (optimizer == null || OptimizerAccess.scaleLearningRate(optimizer, this::scale) == 0) {
                throw new IllegalStateException("cannot reach the learning rate of " + trainer);
            }
            inspector = new GradientInspector(trainer);
            onBind(trainer, optimizer, inspector);
        }
        return inspector;
    }

    /**
     * Called once when the trainer is first seen.
     *
     * @param trainer the trainer
     * @param optimizer its optimizer
     * @param params its parameters
     */
    protected void onBind(Trainer trainer, Optimizer optimizer, GradientInspector params) {}

    /** Zeroes every gradient, for a step that is not applied (DJL accumulates gradients until an update). */
    protected void zeroGradients() {
        inspector.forEachGradient(g -> g.set(ALL, 0));
    }

    /**
     * The batch loss as a number.
     *
     * @param loss the loss array
     * @return its mean
     */
    protected static double value(NDArray loss) {
        try (NDArray m = loss.mean()) {
            return m.getFloat();
        }
    }
}
