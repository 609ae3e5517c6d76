package io.gradguard.core.diagnose;

import io.gradguard.core.GuardConfig;
import io.gradguard.core.RunInfo;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.event.GuardListener;
import io.gradguard.core.event.LayerRecord;
import io.gradguard.core.event.RunSummary;
import io.gradguard.core.event.StepRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * The listener that diagnoses a run: it watches the guard's steps, layer records and events, and
 * {@link #diagnose()} turns what it saw into a {@link RunDiagnosis}, the result (where the explosion started, what
 * in the model's structure made it likely, whether single batches or the loss were to blame, and what learning
 * rate, warm-up and clip threshold to use). Listens to a live guard (every guard has one; see
 * {@code Guard.diagnosis()}) or replays a recorded log ({@code io.gradguard.log.RunLog}, in gradguard-log).
 * Memory is bounded whatever the run's length: healthy norms go into a log-spaced histogram, and only a few
 * layer records and events are kept ({@code RunObservations}). Each finding is drawn by its own rule
 * ({@code OriginRule}, {@code StructureRules}, {@code InputScaleRule}, {@code DataRules},
 * {@code LearningRateRules}, {@code ClipRule}).
 */
public final class Diagnoser implements GuardListener {

    private final RunObservations seen = new RunObservations();

    /** A diagnoser with nothing seen yet. */
    public Diagnoser() {}

    /**
     * Adds a learning-rate range test's outcome to the learning-rate advice.
     *
     * @param range the test's outcome, or null
     * @return this
     */
    public Diagnoser withLrRange(LrRange range) {
        seen.lrRange(range);
        return this;
    }

    @Override
    public void onRun(RunInfo info, GuardConfig config) {
        seen.onRun(info, config);
    }

    @Override
    public void onStep(StepRecord r) {
        seen.onStep(r);
    }

    @Override
    public void onLayers(LayerRecord r) {
        seen.onLayers(r);
    }

    @Override
    public void onEvent(GuardEvent e) {
        seen.onEvent(e);
    }

    @Override
    public void onEnd(RunSummary s) {
        seen.onEnd(s);
    }

    /** @return the events kept (the first 200) */
    public List<GuardEvent> events() {
        return List.copyOf(seen.events());
    }

    /**
     * The findings of every rule that fires, in a fixed order: where it started, depth, inputs, recurrence,
     * data, loss, learning rate, warm-up, clip threshold.
     *
     * @return what the run says so far
     */
    public RunDiagnosis diagnose() {
        boolean needed = seen.neededHelp();
        List<Finding> out = new ArrayList<>();
        OriginRule.origin(seen).ifPresent(out::add);
        StructureRules.depth(seen).ifPresent(out::add);
        InputScaleRule.inputs(seen, needed).ifPresent(out::add);
        StructureRules.recurrent(seen).ifPresent(out::add);
        DataRules.data(seen).ifPresent(out::add);
        DataRules.loss(seen).ifPresent(out::add);
        LearningRateRules.learningRate(seen, needed).ifPresent(out::add);
        LearningRateRules.warmup(seen).ifPresent(out::add);
        ClipRule.clip(seen, needed).ifPresent(out::add);
        return new RunDiagnosis(seen.steps(), needed, List.copyOf(out));
    }
}
