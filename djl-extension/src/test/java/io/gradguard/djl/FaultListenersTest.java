package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.listener.TrainingListenerAdapter;
import com.fasterxml.jackson.databind.JsonNode;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.event.GuardListener;
import io.gradguard.core.event.StepRecord;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault suite, listeners that throw (PyTorch engine, the deep MLP at its exploding learning rate): a user's
 * {@link GuardListener} that throws on every record costs nothing (the guard warns once and decides exactly as
 * without it); a user's DJL {@link TrainingListener} that throws ends {@code EasyTrain.fit} with the user's
 * exception, as DJL does, and a second {@code fit} is guarded on from where the guard stood.
 */
class FaultListenersTest {

    @TempDir
    Path dir;

    /** Throws on every record it gets. */
    static final class Throwing implements GuardListener {
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public void onStep(StepRecord record) {
            calls.incrementAndGet();
            throw new IllegalStateException("user listener bug at step " + record.step());
        }

        @Override
        public void onEvent(GuardEvent event) {
            calls.incrementAndGet();
            throw new IllegalStateException("user listener bug on " + event.kind());
        }
    }

    private float loop(Path log, GuardListener extra) {
        try (ScenarioRun run = new DeepMlpScenario().open(Variant.EXPLODING);
                Trainer t = run.newTrainer();
                DjlGuard guard = new DjlGuard(GuardConfig.custom().log(log).build())) {
            if (extra != null) {
                guard.addGuardListener(extra);
            }
            run.trainByHand(t, guard::step);
            return run.evalLoss(t);
        }
    }

    @Test
    void aThrowingGuardListenerChangesNothing() {
        assertThat(Train.bare(new DeepMlpScenario(), Variant.EXPLODING)).as("unguarded").isNaN();
        float plain = loop(dir.resolve("plain.jsonl"), null);
        Throwing bad = new Throwing();
        float withBad = loop(dir.resolve("bad.jsonl"), bad);
        assertThat(bad.calls.get()).as("the listener was called and threw").isGreaterThan(100);
        assertThat(withBad).isFinite().isEqualTo(plain);
        List<JsonNode> a = Train.readLog(dir.resolve("plain.jsonl"));
        List<JsonNode> b = Train.readLog(dir.resolve("bad.jsonl"));
        assertThat(Train.events(b, "rollback")).isNotEmpty();
        assertThat(b.stream().map(n -> n.path("type").asText() + n.path("step").asLong()).toList())
                .as("the same records in the event log")
                .isEqualTo(a.stream().map(n -> n.path("type").asText() + n.path("step").asLong()).toList());
    }

    /** A DJL listener, added after the guard, that throws once at batch {@code at}. */
    private static TrainingListener throwingOnceAt(int at) {
        AtomicInteger batch = new AtomicInteger();
        return new TrainingListenerAdapter() {
            @Override
            public void onTrainingBatch(Trainer trainer, BatchData batchData) {
                if (batch.getAndIncrement() == at) {
                    throw new IllegalStateException("user listener bug at batch " + at);
                }
            }
        };
    }

    /** Fits twice: the first {@code fit} ends with the user's exception, the second runs a whole epoch. */
    private static float fitTwice(ScenarioRun run, Trainer t) {
        assertThatThrownBy(() -> run.fit(t)).hasMessageContaining("user listener bug");
        run.fit(t);
        return run.evalLoss(t);
    }

    @Test
    void aThrowingTrainingListenerEndsFitAndTheNextFitIsGuarded() {
        int at = 20;
        float unguarded;
        try (ScenarioRun run = new DeepMlpScenario().open(Variant.EXPLODING)) {
            run.config().addTrainingListeners(throwingOnceAt(at));
            try (Trainer t = run.newTrainer()) {
                unguarded = fitTwice(run, t);
            }
        }
        assertThat(unguarded).as("unguarded").isNaN();
        Path log = dir.resolve("fit.jsonl");
        GradGuardListener guard = new GradGuardListener(GuardConfig.custom().log(log).build());
        float guarded;
        long steps;
        try (ScenarioRun run = new DeepMlpScenario().open(Variant.EXPLODING)) {
            run.config().addTrainingListeners(guard, throwingOnceAt(at));
            try (Trainer t = run.newTrainer()) {
                guarded = fitTwice(run, t);
                steps = guard.summary().steps();
            }
        }
        float reference = Train.bare(new DeepMlpScenario(), Variant.REFERENCE);
        assertThat(guarded).as("guarded vs reference %s", reference).isFinite().isLessThan(2f * reference);
        assertThat(steps).as("the guard counted on across both fits").isGreaterThan(at + 1L);
        List<JsonNode> lines = Train.readLog(log);
        assertThat(lines.stream().filter(n -> n.path("type").asText().equals("run")).count())
                .as("one run in the log, not a restart").isEqualTo(1);
        assertThat(Train.events(lines, "rollback")).isNotEmpty();
    }
}
