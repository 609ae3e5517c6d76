package io.gradguard.djl;

import ai.djl.TrainingDivergedException;
import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListener;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.event.RunSummary;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Test helpers: train a scenario on the real PyTorch engine, unguarded or guarded, and read its log. */
final class Train {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Train() {}

    /** The outcome of one run. */
    /**
     * @param thrown the halt that ended the run: DJL's divergence check or GradGuard's (a
     *     {@code TrainingDivergedException} either way); any other exception fails the test
     */
    record Result(float evalLoss, RunSummary summary, Throwable thrown, Path log) {

        boolean diverged(float reference) {
            return thrown != null || !Float.isFinite(evalLoss) || evalLoss >= 10 * reference;
        }

        List<JsonNode> lines() {
            return readLog(log);
        }
    }

    /** Unguarded, with a hand-written loop. */
    static float bare(Scenario s, Variant v) {
        try (ScenarioRun run = s.open(v); Trainer t = run.newTrainer()) {
            run.trainByHand(t, (tr, loss) -> tr.step());
            return run.evalLoss(t);
        }
    }

    /** With {@link GradGuardListener} and {@code EasyTrain.fit}, plus any other listeners first. */
    static Result listener(Scenario s, Variant v, GuardConfig config, Path log, TrainingListener... before) {
        GradGuardListener guard = new GradGuardListener(GuardConfig.from(config).log(log).build());
        try (ScenarioRun run = s.open(v)) {
            run.config().addTrainingListeners(before);
            run.config().addTrainingListeners(guard);
            try (Trainer t = run.newTrainer()) {
                Throwable thrown = null;
                try {
                    run.fit(t);
                } catch (TrainingDivergedException e) {
                    thrown = e;
                }
                return new Result(run.evalLoss(t), guard.summary(), thrown, log);
            }
        }
    }

    /** With {@link DjlGuard} in a hand-written loop. */
    static Result loop(Scenario s, Variant v, GuardConfig config, Path log) {
        try (ScenarioRun run = s.open(v);
                Trainer t = run.newTrainer();
                DjlGuard guard = new DjlGuard(GuardConfig.from(config).log(log).build())) {
            Throwable thrown = null;
            try {
                run.trainByHand(t, guard::step);
            } catch (TrainingDivergedException e) {
                thrown = e;
            }
            return new Result(run.evalLoss(t), guard.summary(), thrown, log);
        }
    }

    /** Every line of a JSONL log, each parsed on its own (so a bad line fails the test). */
    static List<JsonNode> readLog(Path log) {
        try {
            List<JsonNode> out = new ArrayList<>();
            for (String line : Files.readAllLines(log)) {
                out.add(JSON.readTree(line));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<JsonNode> ofType(List<JsonNode> lines, String type) {
        return lines.stream().filter(n -> type.equals(n.path("type").asText())).toList();
    }

    static List<JsonNode> events(List<JsonNode> lines, String kind) {
        return ofType(lines, "event").stream().filter(n -> kind.equals(n.path("kind").asText())).toList();
    }
}
