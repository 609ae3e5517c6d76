package io.gradguard.core.diagnose;

import java.util.List;
import java.util.Locale;

/**
 * The first-step gradient-flow warning both guards give unasked (DJL's and TensorFlow's): its bands and its words, in
 * one place. The bands are ten times wider than the doctor's ranges, since the warning comes on every run: the weight
 * gradients' size compounded over the depth beyond {@link #COMPOUND_WARN} (or below its inverse), and a first update
 * larger than {@link #UPDATE_WARN} times its weight. Each engine measures the numbers its own way; this class judges
 * them and writes the findings.
 */
public final class FirstStepFlowWarning {

    /** How the warning starts (the event's detail), for readers that look for it. */
    public static final String WARNING = "gradient flow at the first step is out of range";

    /** The weight gradients' size compounded over the depth beyond this factor (or below its inverse) is warned of. */
    public static final double COMPOUND_WARN = 100;

    /** A first update larger than this many times its weight's norm is warned of. */
    public static final double UPDATE_WARN = 1;

    private FirstStepFlowWarning() {}

    /**
     * @param perLayer the weight gradients' growth per layer towards the input
     * @param compound that growth compounded over the depth
     * @param count how many layers (or weights) it is compounded over
     * @param unit what {@code count} counts ("layers", "weights")
     * @return the finding, or null when {@code compound} is in the band or NaN (non-finite gradients are the ladder's)
     */
    public static String compoundFinding(double perLayer, double compound, int count, String unit) {
        if (Double.isNaN(compound) || compound <= COMPOUND_WARN && compound >= 1 / COMPOUND_WARN) {
            return null;
        }
        return String.format(Locale.ROOT, "the weight gradients' size %s x%.3g per layer towards the input, x%.3g over %d"
                + " %s (warned outside [%.3g, %.3g]): %s", compound > 1 ? "grows" : "shrinks", perLayer, compound, count,
                unit, 1 / COMPOUND_WARN, COMPOUND_WARN, compound > 1 ? "they explode on their way back" : "they vanish on"
                        + " their way back");
    }

    /**
     * @param updateToWeight a weight's first update over its norm
     * @return true when it is above the band
     */
    public static boolean updateTooLarge(double updateToWeight) {
        return updateToWeight > UPDATE_WARN;
    }

    /**
     * @param worst the weight whose first update is largest relative to its norm
     * @param ratio that update over the norm
     * @param rule how the update was measured (e.g. the optimizer's update rule), or null
     * @param over how many weights are above the band
     * @param weights how many weights were judged
     * @param learningRate the learning rate, NaN when unknown
     * @return the finding
     */
    public static String updateFinding(String worst, double ratio, String rule, int over, int weights, double learningRate) {
        return String.format(Locale.ROOT, "the first update moves %s by %.3gx its norm (%swarned above %.3g), %d of %d weights"
                + " above: the learning rate%s is too high for the model as it is initialized", worst, ratio,
                rule == null ? "" : rule + "; ", UPDATE_WARN, over, weights,
                Double.isFinite(learningRate) ? String.format(Locale.ROOT, " %.3g", learningRate) : "");
    }

    /**
     * @param findings the findings, in order
     * @param remedy what measures and repairs the model, for the engine at hand
     * @return the warning, or null when there is no finding
     */
    public static String message(List<String> findings, String remedy) {
        return findings.isEmpty() ? null : WARNING + ": " + String.join("; ", findings) + ". " + remedy;
    }
}
