package io.gradguard.agent;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.gradguard.models.Reachability;
import java.lang.ref.Reference;
import java.lang.ref.WeakReference;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The agent's DJL hooks on the real engine, driven by hand as the advice drives them: a trainer the application
 * never closes, once dropped, is garbage (DJL's finalizer can then close it), although the agent guarded it. The
 * agent's per-trainer state refers to the trainer, so the agent must not hold that state strongly for the trainer's
 * sake; it used to, and kept every unclosed trainer for the life of the JVM.
 */
class DjlAgentLetGoTest {

    /** A trainer of a 4 -> 1 linear model, announced to the hooks as the constructor's advice does. */
    private static Trainer newTrainer(DjlAgentHooks hooks) {
        Model model = Model.newInstance("let-go");
        model.setBlock(Linear.builder().setUnits(1).build());
        DefaultTrainingConfig cfg = new DefaultTrainingConfig(Loss.l2Loss())
                .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.01f)).build());
        Trainer t = model.newTrainer(cfg);
        hooks.trainerCreated(t);
        t.initialize(new Shape(8, 4));
        return t;
    }

    /** Guards a few steps of a trainer that is never closed; returns a weak reference to it. */
    private static WeakReference<Trainer> trainUnclosed(DjlAgentHooks hooks) {
        Trainer t = newTrainer(hooks);
        steps(hooks, t, 3);
        return new WeakReference<>(t);
    }

    private static void steps(DjlAgentHooks hooks, Trainer t, int n) {
        for (int s = 0; s < n; s++) {
            NDArray x = t.getManager().randomNormal(new Shape(8, 4));
            NDArray y = x.sum(new int[] {1}, true);
            try (GradientCollector gc = t.newGradientCollector()) {
                NDArray loss = t.getLoss().evaluate(new NDList(y), t.forward(new NDList(x)));
                gc.backward(loss);
                hooks.backward(loss);
            }
            if (!hooks.beforeStep(t)) {
                t.step();
            }
        }
    }


    /**
     * The other half: while the application holds its trainer, collections do not take the agent's state for it
     * (the trainer holds it through its parameter server): the same guard keeps guarding, no second one starts.
     */
    @Test
    void aLiveTrainerKeepsItsGuardThroughCollections() throws InterruptedException {
        AtomicInteger created = new AtomicInteger();
        DjlAgentHooks hooks = new DjlAgentHooks(AgentConfig.read("", new Properties(), Map.of()), 0, created);
        Trainer t = newTrainer(hooks);
        try {
            steps(hooks, t, 3);
            WeakReference<Object> garbage = new WeakReference<>(new Object());
            assertThat(Reachability.collected(List.of(garbage))).as("a collection ran").isTrue();
            steps(hooks, t, 3);
            assertThat(created.get()).as("guards started for the one trainer").isEqualTo(1);
        } finally {
            hooks.trainerClosed(t);
            t.close();
            t.getModel().close();
        }
    }

    @Test
    void anUnclosedTrainerTheAgentGuardedIsLetGo() throws InterruptedException {
        DjlAgentHooks hooks = new DjlAgentHooks(AgentConfig.read("", new Properties(), Map.of()), 0);
        WeakReference<Trainer> ref = trainUnclosed(hooks);
        assertThat(Reachability.collected(List.of(ref))).as("the dropped, unclosed trainer was collected while the"
                + " agent's hooks live on").isTrue();
        Reference.reachabilityFence(hooks);
    }
}
