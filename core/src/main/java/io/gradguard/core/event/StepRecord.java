package io.gradguard.core.event;

import io.gradguard.core.Action;

/**
 * One optimizer step as the guard saw and handled it.
 *
 * @param step the step index
 * @param loss the loss (NaN when unknown or non-finite)
 * @param lossKnown whether the loss was seen
 * @param gradNorm the global gradient norm before clipping
 * @param clipCoef the factor the gradients were scaled by (1 when not clipped, 0 when skipped)
 * @param lrScale the learning-rate scale in force
 * @param action what was done
 */
public record StepRecord(
        long step, double loss, boolean lossKnown, double gradNorm, double clipCoef, double lrScale, Action action) {}
