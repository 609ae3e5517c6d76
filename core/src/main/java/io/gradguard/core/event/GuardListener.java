package io.gradguard.core.event;

import io.gradguard.core.GuardConfig;
import io.gradguard.core.RunInfo;

/**
 * Receives what the guard sees and does. Every method has a no-op default. An exception thrown by a
 * listener is caught and logged by the guard: a listener can never break training.
 */
public interface GuardListener {

    /**
     * The run starts.
     *
     * @param info the run
     * @param config the effective configuration
     */
    default void onRun(RunInfo info, GuardConfig config) {}

    /**
     * One step was handled.
     *
     * @param record the step
     */
    default void onStep(StepRecord record) {}

    /**
     * Per-layer norms were sampled.
     *
     * @param record the norms
     */
    default void onLayers(LayerRecord record) {}

    /**
     * Something happened.
     *
     * @param event the event
     */
    default void onEvent(GuardEvent event) {}

    /**
     * The run ended (or the guard was closed).
     *
     * @param summary the totals
     */
    default void onEnd(RunSummary summary) {}
}
