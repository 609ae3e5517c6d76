package io.gradguard.djl;

import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.ParameterTracker;
import ai.djl.util.Pair;
import io.gradguard.core.event.EventKind;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.event.GuardListener;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Test helpers for DJL's own listeners under the guard: short {@code EasyTrain} epochs cut from a
 * scenario's data, a held-out validation slice, and the model's weights read to the host (from a live trainer
 * or from a file DJL saved).
 */
final class ListenerRuns {

    /** The scenario most tests use: a 10-layer plain ReLU MLP, SGD momentum 0.9, tuned rate 0.01. */
    static final DeepMlpScenario MLP = new DeepMlpScenario();

    private ListenerRuns() {}

    /**
     * The deep MLP's tuned set-up with a schedule that raises the rate 30x, to 0.3, after update 80: healthy for
     * 80 steps, then it explodes. Unguarded: NaN within the pass. Guarded (listener, or loop guard given the loss):
     * rolled back at step 84 to the snapshot before step 0, then at step 166 to the snapshot before step 144.
     */
    static ScenarioRun openJump() {
        ScenarioRun run = MLP.open(Variant.REFERENCE);
        ParameterTracker jump = (id, n) -> n <= 80 ? 0.01f : 0.3f;
        run.config().optOptimizer(Optimizer.sgd().setLearningRateTracker(jump).optMomentum(0.9f).build());
        return run;
    }

    /**
     * @param run the run
     * @param batches how many batches
     * @return the run's first {@code batches} batches, in order (the first steps of its one-pass training)
     */
    static RandomAccessDataset firstBatches(ScenarioRun run, int batches) {
        return run.dataset().subDataset(0, batches * run.scenario().batchSize());
    }

    /**
     * @param run the run
     * @param from the first batch of the slice
     * @param batches how many batches
     * @return a slice of the run's data for validation (pick one that the training epochs do not use)
     */
    static RandomAccessDataset slice(ScenarioRun run, int from, int batches) {
        int b = run.scenario().batchSize();
        return run.dataset().subDataset(from * b, (from + batches) * b);
    }

    /**
     * @param model a model
     * @return each parameter's values, in the block's order
     */
    static float[][] weights(Model model) {
        List<float[]> out = new ArrayList<>();
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            out.add(p.getValue().getArray().toFloatArray());
        }
        return out.toArray(new float[0][]);
    }

    /**
     * @param trainer a trainer
     * @return its gradients, in the block's order
     */
    static float[][] gradients(Trainer trainer) {
        List<float[]> out = new ArrayList<>();
        for (Pair<String, Parameter> p : trainer.getModel().getBlock().getParameters()) {
            try (NDArray g = p.getValue().getArray().getGradient()) {
                out.add(g.toFloatArray());
            }
        }
        return out.toArray(new float[0][]);
    }

    /**
     * The parameters a model file holds, loaded the way a user loads a checkpoint: into a fresh model of the
     * same scenario.
     *
     * @param s the scenario whose block was saved
     * @param dir the directory
     * @param name the model name
     * @param epoch the epoch number in the file name
     * @return the saved values, in the block's order
     */
    static float[][] load(Scenario s, Path dir, String name, int epoch) {
        try (ScenarioRun fresh = s.open(Variant.REFERENCE)) {
            fresh.model().load(dir, name, Map.of("epoch", String.valueOf(epoch)));
            return weights(fresh.model());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (MalformedModelException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * @param w weights
     * @return true when every value is finite
     */
    static boolean finite(float[][] w) {
        for (float[] a : w) {
            for (float v : a) {
                if (!Float.isFinite(v)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * @param a weights
     * @param b weights
     * @return true when bit for bit equal
     */
    static boolean same(float[][] a, float[][] b) {
        return Arrays.deepEquals(a, b);
    }

    /**
     * Records the trainer's weights each time the guard takes a snapshot (the snapshot's event comes before the
     * step's update, so these are the values the snapshot holds), keyed by step.
     */
    static final class SnapshotWeights implements GuardListener {

        final AtomicReference<Trainer> trainer = new AtomicReference<>();
        final Map<Long, float[][]> byStep = new TreeMap<>();
        final List<GuardEvent> rollbacks = new ArrayList<>();

        @Override
        public void onEvent(GuardEvent event) {
            if (event.kind() == EventKind.SNAPSHOT) {
                byStep.put(event.step(), weights(trainer.get().getModel()));
            } else if (event.kind() == EventKind.ROLLBACK) {
                rollbacks.add(event);
            }
        }

        /**
         * @param rollback a rollback event
         * @return the step whose snapshot it restored
         */
        static long toStep(GuardEvent rollback) {
            return ((Number) rollback.data().get("to_step")).longValue();
        }
    }
}
