package io.gradguard.models;

import ai.djl.nn.Block;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.Random;

/**
 * A small ReLU MLP under Adam at a hundred times its tuned learning rate, without warm-up.
 *
 * <p>Cause: Adam moves every weight by about one learning rate per step whatever the gradient's size,
 * so at a hundred times the tuned rate the first updates overshoot; the loss spikes by orders of magnitude, the
 * spike's gradients inflate the second-moment estimate {@code v}, and the network is left with dead ReLU
 * units and a frozen effective learning rate. Clipping cannot help: Adam divides the gradient by its own
 * running scale, so a clipped gradient still produces a full-size step.
 */
public final class AdamOvershootScenario extends LearningRateScenario {

    static final int FEATURES = 16;

    /** A hundred times the tuned learning rate (lr 1.0; the tuned 0.01 is the best of a sweep over 0.003, 0.01, 0.03). */
    public AdamOvershootScenario() {
        this(0.01f, 100f);
    }

    AdamOvershootScenario(float tunedLr, float factor) {
        super(tunedLr, factor);
    }

    @Override
    public String name() {
        return nameWithFactor("adam-overshoot");
    }

    @Override
    public String cause() {
        return "Adam at " + factor + "x its tuned learning rate, no warm-up: the first updates overshoot, the loss"
                + " spikes, the spike inflates Adam's second moment and leaves dead ReLU units; clipping cannot"
                + " shrink Adam's step";
    }

    @Override
    public float documentedReferenceLoss() {
        return 0.0594f;
    }

    @Override
    protected Block buildBlock() {
        return Regression.reluMlp(3, 64);
    }

    @Override
    protected Optimizer optimizer(float learningRate, float clipGrad) {
        return Optimizer.adam().optLearningRateTracker(Tracker.fixed(learningRate)).optClipGrad(clipGrad).build();
    }

    @Override
    protected ScenarioData makeData(Variant variant, Random rng) {
        return Regression.data(FEATURES, steps() * batchSize(), rng);
    }
}
