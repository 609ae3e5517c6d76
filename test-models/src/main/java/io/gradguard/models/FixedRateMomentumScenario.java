package io.gradguard.models;

import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;

/**
 * A scenario whose cause is not the learning rate: both variants train with SGD, momentum 0.9, at the
 * same fixed rate, and differ in the model, the loss or the data. No documented reference: the recovery
 * table measures it in the same run.
 */
abstract class FixedRateMomentumScenario extends Scenario {

    private final float learningRate;

    /** @param learningRate the rate of both variants */
    FixedRateMomentumScenario(float learningRate) {
        this.learningRate = learningRate;
    }

    @Override
    public float documentedReferenceLoss() {
        return Float.NaN;
    }

    @Override
    public float learningRate(Variant variant) {
        return learningRate;
    }

    @Override
    protected Optimizer optimizer(float lr, float clipGrad) {
        return Optimizer.sgd().setLearningRateTracker(Tracker.fixed(lr)).optMomentum(0.9f).optClipGrad(clipGrad).build();
    }
}
