package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.TrainingDivergedException;
import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListener;
import com.fasterxml.jackson.databind.JsonNode;
import io.gradguard.core.GuardConfig;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An EasyTrain app with DJL's default listeners: at a learning rate where DJL alone throws
 * {@link TrainingDivergedException}, the same app plus {@link GradGuardListener} completes, whatever the
 * listener order, and its JSONL log shows where the explosion was caught and what was done.
 */
class DjlDivergenceCheckTest {

    private final Scenario scenario = new DeepMlpScenario();

    @TempDir
    Path dir;

    @Test
    void djlAloneAbortsTheRun() {
        try (ScenarioRun run = scenario.open(Variant.EXPLODING)) {
            run.config().addTrainingListeners(TrainingListener.Defaults.basic());
            try (Trainer t = run.newTrainer()) {
                assertThatThrownBy(() -> run.fit(t)).isInstanceOf(TrainingDivergedException.class)
                        .hasMessageContaining("The Loss became NaN");
            }
        }
    }

    @Test
    void guardedRunCompletesWithBasicListenersBeforeTheGuard() {
        float reference = Train.bare(scenario, Variant.REFERENCE);
        Train.Result r = Train.listener(scenario, Variant.EXPLODING, GuardConfig.ofDefaults(), dir.resolve("a.jsonl"),
                TrainingListener.Defaults.basic());
        assertThat(r.thrown()).isNull();
        assertThat(r.evalLoss()).isFinite().isLessThanOrEqualTo(2 * reference);
        assertExplosionCaughtInLog(r.lines());
    }

    @Test
    void guardedRunCompletesWithTheGuardBeforeLoggingListeners() {
        GradGuardListener guard = new GradGuardListener(GuardConfig.custom().log(dir.resolve("b.jsonl")).build());
        try (ScenarioRun run = scenario.open(Variant.EXPLODING)) {
            run.config().addTrainingListeners(guard);
            run.config().addTrainingListeners(TrainingListener.Defaults.logging());
            try (Trainer t = run.newTrainer()) {
                run.fit(t);
                assertThat(run.evalLoss(t)).isFinite();
            }
        }
        assertExplosionCaughtInLog(Train.readLog(dir.resolve("b.jsonl")));
    }

    @Test
    void monitorPolicyLeavesDjlsCheckInCharge() {
        try (ScenarioRun run = scenario.open(Variant.EXPLODING)) {
            run.config().addTrainingListeners(TrainingListener.Defaults.basic());
            run.config().addTrainingListeners(new GradGuardListener(GuardConfig.custom().policy(io.gradguard.core.Policy.MONITOR).build()));
            try (Trainer t = run.newTrainer()) {
                assertThatThrownBy(() -> run.fit(t)).isInstanceOf(TrainingDivergedException.class);
            }
        }
    }

    private static void assertExplosionCaughtInLog(List<JsonNode> lines) {
        assertThat(lines.get(0).path("type").asText()).isEqualTo("run");
        assertThat(lines.get(0).path("attachment").asText()).isEqualTo("listener");
        assertThat(lines.get(lines.size() - 1).path("type").asText()).isEqualTo("end");
        JsonNode firstAlarm = Train.ofType(lines, "event").stream()
                .filter(e -> !e.path("kind").asText().equals("snapshot"))
                .findFirst().orElseThrow();
        long caughtAt = firstAlarm.path("step").asLong();
        assertThat(caughtAt).as("caught within the first steps").isLessThan(5);
        JsonNode stepLine = Train.ofType(lines, "step").stream()
                .filter(s -> s.path("step").asLong() == caughtAt).findFirst().orElseThrow();
        assertThat(stepLine.path("action").asText()).isIn("skip", "clip", "rollback");
        assertThat(Train.events(lines, "rollback")).isNotEmpty();
    }
}
