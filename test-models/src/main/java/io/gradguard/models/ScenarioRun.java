package io.gradguard.models;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.listener.TrainingListener;
import ai.djl.translate.TranslateException;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * One built scenario: its model, a training config that can still be extended, the data set and a
 * clean evaluation set. Close it to free the model and its arrays.
 */
public final class ScenarioRun implements AutoCloseable {

    /** What a hand-written loop calls where it would call {@code trainer.step()}. */
    @FunctionalInterface
    public interface Stepper {
        /**
         * Performs the optimizer step (or decides not to).
         *
         * @param trainer the trainer, after backward
         * @param loss this batch's loss array
         */
        void step(Trainer trainer, NDArray loss);
    }

    private final Scenario scenario;
    private final Model model;
    private final DefaultTrainingConfig config;
    private final ScenarioData.Nd data;
    private final ArrayDataset dataset;
    private final Shape inputShape;

    ScenarioRun(
            Scenario scenario,
            Model model,
            DefaultTrainingConfig config,
            ScenarioData.Nd data,
            int batchSize) {
        this.scenario = scenario;
        this.model = model;
        this.config = config;
        this.data = data;
        this.dataset =
                new ArrayDataset.Builder()
                        .setData(data.trainX())
                        .optLabels(data.trainY())
                        .setSampling(batchSize, false)
                        .build();
        Shape shape = data.trainX().getShape();
        long[] dims = shape.getShape().clone();
        dims[0] = batchSize;
        this.inputShape = new Shape(dims);
    }

    /** @return the scenario this run was built from */
    public Scenario scenario() {
        return scenario;
    }

    /** @return the model */
    public Model model() {
        return model;
    }

    /** @return the training config; add listeners before {@link #newTrainer} */
    public DefaultTrainingConfig config() {
        return config;
    }

    /** @return the shape of one input batch (batch size first), as the trainer is initialized with */
    public Shape inputShape() {
        return inputShape;
    }

    /** @return the training data set (one pass = {@link Scenario#steps()} batches, in order) */
    public ArrayDataset dataset() {
        return dataset;
    }

    /**
     * Creates and initializes a trainer for this run.
     *
     * @param listeners listeners to add to the config first
     * @return the trainer; close it when done
     */
    public Trainer newTrainer(TrainingListener... listeners) {
        if (listeners.length > 0) {
            config.addTrainingListeners(listeners);
        }
        Trainer trainer = model.newTrainer(config);
        trainer.initialize(inputShape);
        return trainer;
    }

    /**
     * Trains one pass with DJL's {@link EasyTrain#fit}.
     *
     * @param trainer the trainer
     */
    public void fit(Trainer trainer) {
        try {
            EasyTrain.fit(trainer, 1, dataset, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (TranslateException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Trains one pass with a hand-written loop: forward, loss, backward, then {@code stepper}.
     *
     * @param trainer the trainer
     * @param stepper called where the loop would call {@code trainer.step()}
     */
    public void trainByHand(Trainer trainer, Stepper stepper) {
        trainByHand(trainer, stepper, Integer.MAX_VALUE);
    }

    /**
     * Trains at most {@code maxSteps} batches with a hand-written loop.
     *
     * @param trainer the trainer
     * @param stepper called where the loop would call {@code trainer.step()}
     * @param maxSteps how many batches at most
     */
    public void trainByHand(Trainer trainer, Stepper stepper, int maxSteps) {
        int done = 0;
        try {
            for (Batch batch : trainer.iterateDataset(dataset)) {
                if (done++ >= maxSteps) {
                    batch.close();
                    break;
                }
                try (batch) {
                    NDArray loss;
                    try (GradientCollector collector = trainer.newGradientCollector()) {
                        NDList preds = trainer.forward(batch.getData(), batch.getLabels());
                        loss = trainer.getLoss().evaluate(batch.getLabels(), preds);
                        collector.backward(loss);
                    }
                    stepper.step(trainer, loss);
                    loss.close();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (TranslateException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The loss of the current parameters on the clean evaluation set (no gradients).
     *
     * @param trainer the trainer whose parameters to evaluate
     * @return the evaluation loss; NaN or infinite when the parameters are
     */
    public float evalLoss(Trainer trainer) {
        NDList preds = trainer.evaluate(new NDList(data.evalX()));
        try (NDArray loss = scenario.evaluationLoss().evaluate(new NDList(data.evalY()), preds)) {
            return loss.getFloat();
        } finally {
            preds.close();
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
