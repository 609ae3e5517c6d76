package io.gradguard.models;

import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.Random;

/**
 * A healthy MLP under Adam that meets one corrupted batch: at step {@link #CORRUPT_STEP} the inputs
 * and targets of the whole batch are multiplied by 10^6 (a unit bug in one data shard, say).
 *
 * <p>Cause: the corrupted batch's gradient is ~10^12 times the usual one. Adam's update is roughly
 * scale-free, so the huge first moment drives every weight about five learning rates (0.15 here) in
 * one coherent direction over the next steps, which kills most ReLU units; meanwhile the second-moment
 * estimate {@code v} has absorbed g^2 ~ 10^24 and decays by only 0.1% per step, so the effective
 * learning rate of the affected weights stays ~0 and the damage is never repaired. The learning rate
 * (0.03 after a 50-step linear warm-up) is the best of a sweep over 0.03, 0.05 and 0.1.
 */
public final class CorruptedBatchScenario extends Scenario {

    /** The step (batch index) whose data is corrupted. */
    public static final int CORRUPT_STEP = 100;

    /** The factor applied to the corrupted batch's inputs and targets. */
    public static final float CORRUPTION = 1e6f;

    /** Linear learning-rate warm-up steps. */
    public static final int WARMUP = 50;

    static final int FEATURES = 16;

    @Override
    public String name() {
        return "corrupted-batch-adam";
    }

    @Override
    public String cause() {
        return "one batch (step " + CORRUPT_STEP + ") with inputs and targets x1e6 under Adam (lr 0.03):"
                + " the huge first moment pushes every weight ~5 learning rates one way, killing ReLU"
                + " units, and the second moment absorbs a 1e24 gradient square that freezes repair";
    }

    @Override
    public String referenceSetup() {
        return "same model, optimizer and data without the corrupted batch";
    }

    @Override
    public float documentedReferenceLoss() {
        return 0.0555f;
    }

    @Override
    public float learningRate(Variant variant) {
        return 0.03f;
    }

    @Override
    protected Block buildBlock() {
        return Regression.reluMlp(3, 64);
    }

    @Override
    protected Optimizer optimizer(float learningRate, float clipGrad) {
        return Optimizer.adam()
                .optLearningRateTracker(Tracker.warmUp()
                        .optWarmUpBeginValue(0f)
                        .optWarmUpSteps(WARMUP)
                        .setMainTracker(Tracker.fixed(learningRate))
                        .build())
                .optClipGrad(clipGrad).build();
    }

    @Override
    protected ScenarioData makeData(Variant variant, Random rng) {
        ScenarioData data = Regression.data(FEATURES, steps() * batchSize(), rng);
        if (variant == Variant.EXPLODING) {
            int from = CORRUPT_STEP * batchSize();
            int to = from + batchSize();
            for (int r = from; r < to; r++) {
                for (int i = 0; i < FEATURES; i++) {
                    data.trainX()[r * FEATURES + i] *= CORRUPTION;
                }
                data.trainY()[r] *= CORRUPTION;
            }
        }
        return data;
    }
}
