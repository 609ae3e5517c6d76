package io.gradguard.core.event;

import java.util.List;

/**
 * Per-parameter norms at one step.
 *
 * @param step the step index
 * @param names parameter names
 * @param gradNorms gradient norms, same order
 * @param weightNorms weight norms, same order, or null when not measured
 */
public record LayerRecord(long step, List<String> names, double[] gradNorms, double[] weightNorms) {}
