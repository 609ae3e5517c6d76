package io.gradguard.djl.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.training.Trainer;
import ai.djl.training.listener.DivergenceCheckTrainingListener;
import ai.djl.training.listener.EpochTrainingListener;
import ai.djl.training.listener.EvaluatorTrainingListener;
import ai.djl.training.listener.MemoryTrainingListener;
import ai.djl.training.listener.SaveModelTrainingListener;
import ai.djl.training.listener.TrainingListener;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.Policy;
import io.gradguard.djl.GradGuardListener;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the guard stands in for DJL's listeners (PyTorch engine): when the trainer is created, the guard puts its
 * stand-ins in place of DJL's {@code DivergenceCheckTrainingListener} and {@code EvaluatorTrainingListener}, at
 * the same positions of the training config's own list, wrapping the same instances, and leaves every other
 * listener (epoch, memory, save-model) as it is; with {@code policy=monitor} it changes nothing.
 */
class ListenerStandInsTest {

    @TempDir
    Path dir;

    private List<TrainingListener> listenersAfterCreation(Policy policy, TrainingListener... djl) {
        try (ScenarioRun run = new DeepMlpScenario().open(Variant.REFERENCE)) {
            run.config().addTrainingListeners(djl);
            run.config().addTrainingListeners(new GradGuardListener(GuardConfig.custom().policy(policy).build()));
            try (Trainer t = run.newTrainer()) {
                assertThat(TrainerAccess.listeners(t)).as("the trainer's list is the config's").isSameAs(run.config().getTrainingListeners());
                return List.copyOf(run.config().getTrainingListeners());
            }
        }
    }

    @Test
    void standInsTakeTheirPlaceAndLeaveTheOtherListenersAlone() {
        TrainingListener epoch = new EpochTrainingListener();
        TrainingListener memory = new MemoryTrainingListener(dir.toString());
        EvaluatorTrainingListener evaluator = new EvaluatorTrainingListener();
        TrainingListener check = new DivergenceCheckTrainingListener();
        TrainingListener save = new SaveModelTrainingListener(dir.toString());

        List<TrainingListener> auto = listenersAfterCreation(Policy.AUTO, epoch, memory, evaluator, check, save);
        assertThat(auto).hasSize(6);
        assertThat(auto.get(0)).isSameAs(epoch);
        assertThat(auto.get(1)).isSameAs(memory);
        assertThat(auto.get(2)).isInstanceOf(DeferredEvaluatorListener.class);
        assertThat(((DeferredEvaluatorListener) auto.get(2)).original()).isSameAs(evaluator);
        assertThat(auto.get(3)).isInstanceOf(GuardedDivergenceCheck.class);
        assertThat(((GuardedDivergenceCheck) auto.get(3)).original()).isSameAs(check);
        assertThat(auto.get(4)).isSameAs(save);
        assertThat(auto.get(5)).isInstanceOf(GradGuardListener.class);

        TrainingListener[] fresh = {new EpochTrainingListener(), new EvaluatorTrainingListener(), new DivergenceCheckTrainingListener()};
        List<TrainingListener> monitor = listenersAfterCreation(Policy.MONITOR, fresh);
        for (int i = 0; i < fresh.length; i++) {
            assertThat(monitor.get(i)).as("monitor: listener %d untouched", i).isSameAs(fresh[i]);
        }
    }
}
