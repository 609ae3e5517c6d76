package io.gradguard.models;

import ai.djl.nn.Block;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.Random;

/**
 * A deep plain MLP (no normalization, no residual connections) trained with SGD + momentum at a
 * learning rate five times the tuned one.
 *
 * <p>Cause: without normalization or residuals the curvature of a deep ReLU stack is high; at five
 * times the stable step size the momentum iterate overshoots, the gradient norm grows geometrically
 * and the weights overflow to NaN within the first few dozen steps.
 */
public final class DeepMlpScenario extends LearningRateScenario {

    static final int FEATURES = 16;
    static final int DEPTH = 10;
    static final int WIDTH = 64;

    /** The set-up: the tuned learning rate and five times it. */
    public DeepMlpScenario() {
        this(0.01f, 5f);
    }

    /**
     * A variant with another learning-rate factor (the rollback scenarios use 10x and 50x).
     *
     * @param tunedLr the tuned learning rate of the reference
     * @param factor how many times the tuned rate the exploding variant uses
     */
    public DeepMlpScenario(float tunedLr, float factor) {
        this(tunedLr, factor, true);
    }

    private final boolean momentum;

    /**
     * @param tunedLr the tuned learning rate of the reference
     * @param factor how many times the tuned rate the exploding variant uses
     * @param momentum SGD with momentum 0.9 (true) or plain SGD (false)
     */
    public DeepMlpScenario(float tunedLr, float factor, boolean momentum) {
        super(tunedLr, factor);
        this.momentum = momentum;
    }

    @Override
    public String name() {
        return nameWithFactor(momentum ? "deep-mlp-sgd-momentum" : "deep-mlp-sgd");
    }

    @Override
    public String cause() {
        return DEPTH + "-layer plain ReLU MLP (no normalization, no residual), " + (momentum ? "SGD momentum 0.9" : "plain SGD") + " at "
                + factor + "x the tuned learning rate: the iterate overshoots and the gradient norm"
                + " grows geometrically until the weights overflow";
    }

    @Override
    public float documentedReferenceLoss() {
        // tuned: momentum 0.9 at 0.01 (0.0830); plain SGD at 0.02 (0.1407; 0.01 gives 0.1485, 0.05 NaN)
        return momentum ? 0.0830f : 0.1407f;
    }

    @Override
    protected Block buildBlock() {
        return Regression.reluMlp(DEPTH, WIDTH);
    }

    @Override
    protected Optimizer optimizer(float learningRate, float clipGrad) {
        return Optimizer.sgd()
                .setLearningRateTracker(Tracker.fixed(learningRate))
                .optMomentum(momentum ? 0.9f : 0f)
                .optClipGrad(clipGrad).build();
    }

    @Override
    protected ScenarioData makeData(Variant variant, Random rng) {
        return Regression.data(FEATURES, steps() * batchSize(), rng);
    }
}
