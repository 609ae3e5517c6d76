package io.gradguard.tensorflow.doctor;

import java.util.List;
import java.util.Locale;

/**
 * What {@link TfReinit} changed: the variables it re-initialized, and those it left alone with the reason.
 *
 * @param changed the re-initialized variables, in the order given
 * @param skipped names of the variables left alone (biases and other variables of rank under 2), each with
 *     the reason
 * @param seed the seed the values were drawn with
 */
public record ReinitReport(List<VariableChange> changed, List<String> skipped, long seed) {

    /**
     * @param changed the re-initialized variables
     * @param skipped the variables left alone, with the reason
     * @param seed the seed
     */
    public ReinitReport {
        changed = List.copyOf(changed);
        skipped = List.copyOf(skipped);
    }

    /** @return one line per variable changed (name, shape, scheme, old and new standard deviation), then the skipped ones */
    public String text() {
        StringBuilder b = new StringBuilder();
        for (VariableChange c : changed) {
            b.append(String.format(Locale.ROOT, "%s %s: %s, std %.4g -> %.4g%n", c.name(),
                    c.shape().toString().replace(" ", ""), c.scheme(), c.oldStd(), c.newStd()));
        }
        for (String s : skipped) {
            b.append("left alone: ").append(s).append('\n');
        }
        return b.toString();
    }
}
