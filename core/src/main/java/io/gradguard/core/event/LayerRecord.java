package io.gradguard.core.event;

import java.util.List;

/**
 * Per-parameter norms at one step.
 *
 * @param step the step index
 * @param names parameter names
 * @param gradNorms gradient norms, same order
 * @param weightNorms weight norms, same order, or null when not measured
 * @param inputParam the first layer's weight whose gradient was split by input column, or null
 * @param inputColumns the L2 norm of that gradient per input column (per input feature or channel: over every axis
 *     but the second), or null when not measured; a column far above the others is an input on a larger scale
 */
public record LayerRecord(long step, List<String> names, double[] gradNorms, double[] weightNorms, String inputParam,
        double[] inputColumns) {

    /**
     * A record without input columns.
     *
     * @param step the step index
     * @param names parameter names
     * @param gradNorms gradient norms
     * @param weightNorms weight norms, or null
     */
    public LayerRecord(long step, List<String> names, double[] gradNorms, double[] weightNorms) {
        this(step, names, gradNorms, weightNorms, null, null);
    }
}
