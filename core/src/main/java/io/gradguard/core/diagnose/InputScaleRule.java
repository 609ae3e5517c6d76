package io.gradguard.core.diagnose;

import static io.gradguard.core.diagnose.FindingText.fmt;

import io.gradguard.core.event.LayerRecord;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Finding {@code inputs}, inputs on different scales: in the first layer's gradient at the first measured step
 * (usually step 0), split by input column, a column at {@value #INPUT_RATIO} times the median column or more is
 * an input on a larger scale than the rest (the gradient of a first-layer weight is proportional to its input).
 * The learning rate that overshoots along those inputs looks too high, yet a lower one only slows every other
 * input down.
 */
final class InputScaleRule {

    /** A column at this many times the median column is an input on a larger scale. */
    static final double INPUT_RATIO = 4.0;

    private InputScaleRule() {}

    static Optional<Finding> inputs(RunObservations o, boolean needed) {
        LayerRecord r = o.inputLayers();
        if (!needed || r == null) {
            return Optional.empty();
        }
        double[] c = r.inputColumns();
        double[] sorted = c.clone();
        Arrays.sort(sorted);
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        if (!(median > 0)) {
            return Optional.empty();
        }
        List<String> large = new ArrayList<>();
        for (int i = 0; i < c.length; i++) {
            if (c[i] >= INPUT_RATIO * median) {
                large.add(String.format(Locale.ROOT, "input %d %.1fx", i, c[i] / median));
            }
        }
        if (large.isEmpty() || large.size() > c.length / 2) {
            return Optional.empty();
        }
        String shown = large.size() <= 6 ? String.join(", ", large)
                : String.join(", ", large.subList(0, 6)) + " and " + (large.size() - 6) + " more";
        String headline = "Inputs: " + large.size() + " of " + c.length + " input columns are on a larger scale than the"
                + " rest (the first layer's gradient per input column, against the median column: " + shown + ").";
        String advice = "standardize the inputs (subtract each column's mean, divide by its standard deviation, with the"
                + " statistics of the training set) before training; a lower learning rate would only hide it by slowing"
                + " every other input down.";
        List<String> ev = List.of(String.format(Locale.ROOT, "gradient of '%s' at step %d per input column: median %s,"
                + " largest %s", r.inputParam(), r.step(), fmt(median), fmt(sorted[sorted.length - 1])));
        return Optional.of(new Finding("inputs", headline, advice, ev));
    }
}
