package io.gradguard.samples;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.gradguard.djl.GradGuardListener;
import java.util.Random;

/**
 * Way of use 1: an ordinary {@code EasyTrain.fit} app with one extra listener. Run it with
 * {@code -Dgradguard.log=run.jsonl} to get the event log, {@code -Dgradguard.policy=monitor} to only watch.
 */
public final class ListenerSample {

    private ListenerSample() {}

    /**
     * Entry point.
     *
     * @param args ignored
     * @throws Exception from DJL
     */
    public static void main(String[] args) throws Exception {
        Engine.getInstance().setRandomSeed(1);
        try (Model model = Model.newInstance("listener-sample")) {
            SequentialBlock net = new SequentialBlock();
            for (int i = 0; i < 8; i++) {
                net.add(Linear.builder().setUnits(64).build()).add(Activation::relu);
            }
            net.add(Linear.builder().setUnits(1).build());
            model.setBlock(net);

            NDManager m = model.getNDManager();
            Random rng = new Random(1);
            float[] x = new float[4096 * 8];
            float[] y = new float[4096];
            for (int r = 0; r < y.length; r++) {
                double s = 0;
                for (int i = 0; i < 8; i++) {
                    x[r * 8 + i] = (float) rng.nextGaussian();
                    s += Math.sin(x[r * 8 + i] * (i + 1));
                }
                y[r] = (float) s;
            }
            ArrayDataset data = new ArrayDataset.Builder()
                    .setData(m.create(x, new Shape(y.length, 8)))
                    .optLabels(m.create(y, new Shape(y.length, 1)))
                    .setSampling(32, true)
                    .build();

            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss())
                    .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.05f)).optMomentum(0.9f).build())
                    .addTrainingListeners(TrainingListener.Defaults.logging())
                    .addTrainingListeners(new GradGuardListener()); // <- the one line
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(32, 8));
                EasyTrain.fit(trainer, 2, data, null);
                System.out.println("Finished: " + trainer.getTrainingResult());
            }
        }
    }
}
