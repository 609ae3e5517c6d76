package io.gradguard.samples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import io.gradguard.core.Decision;
import io.gradguard.djl.DjlGuard;
import io.gradguard.models.CorruptedBatchScenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;

/**
 * Way of use 2: a hand-written DJL loop that calls {@code guard.step(trainer, loss)} instead of
 * {@code trainer.step()}. The data has one corrupted batch (inputs and targets x1e6) under Adam; the
 * guard skips it.
 */
public final class LoopSample {

    private LoopSample() {}

    /**
     * Entry point.
     *
     * @param args ignored
     * @throws Exception from DJL
     */
    public static void main(String[] args) throws Exception {
        try (ScenarioRun run = new CorruptedBatchScenario().open(Variant.EXPLODING);
                Trainer trainer = run.newTrainer();
                DjlGuard guard = new DjlGuard()) {
            int step = 0;
            for (Batch batch : trainer.iterateDataset(run.dataset())) {
                NDArray loss;
                try (GradientCollector collector = trainer.newGradientCollector()) {
                    NDList preds = trainer.forward(batch.getData());
                    loss = trainer.getLoss().evaluate(batch.getLabels(), preds);
                    collector.backward(loss);
                }
                Decision d = guard.step(trainer, loss); // instead of trainer.step()
                if (!d.applies()) {
                    System.out.println("step " + step + ": " + d);
                }
                loss.close();
                batch.close();
                step++;
            }
            System.out.printf("final eval loss %.4f; %s%n", run.evalLoss(trainer), guard.summary());
        }
    }
}
