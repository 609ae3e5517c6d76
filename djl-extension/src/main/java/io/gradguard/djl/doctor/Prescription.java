package io.gradguard.djl.doctor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The doctor's prescription as code-level lines, one per change (then a "why:" line when the change was not earned by the
 * margin), or the one "no change needed" line.
 */
final class Prescription {

    private Prescription() {}

    /**
     * @param noChangeWhy why no change is needed, or null when the chosen trial changes something
     * @param changeWhy why a change the margin did not earn is prescribed (a stuck model), or null
     * @param chosen the chosen trial
     * @param fixes its fixes
     * @param userLr the user's learning rate
     * @param suggested the range test's suggestion
     * @param warmUp the warm-up steps of the prescription (0: none)
     * @param warmUpFraction the warm-up's share of the planned steps
     * @param plannedSteps the user's planned steps
     * @return the lines
     */
    static List<String> lines(String noChangeWhy, String changeWhy, Trial chosen, List<StructureFix> fixes, double userLr,
            double suggested, int warmUp, double warmUpFraction, int plannedSteps) {
        List<String> lines = new ArrayList<>();
        if (noChangeWhy != null) {
            lines.add("no change needed: " + noChangeWhy);
            return lines;
        }
        for (StructureFix f : fixes) {
            lines.add(f.prescription());
        }
        if (chosen.learningRate() != userLr) {
            lines.add(String.format(Locale.ROOT, "lr = %.3g (the range test's suggestion; yours: %.3g)", suggested, userLr));
        }
        if (warmUp > 0) {
            lines.add(String.format(Locale.ROOT, "warm up the learning rate linearly over %d steps (%.0f%% of the planned %d)"
                    + " from 0 to %.3g: Tracker.warmUp().optWarmUpBeginValue(0f).optWarmUpSteps(%d)"
                    + ".setMainTracker(yourTracker).build()", warmUp, 100 * warmUpFraction, plannedSteps,
                    chosen.learningRate(), warmUp));
        }
        if (changeWhy != null) {
            lines.add("why: " + changeWhy);
        }
        return lines;
    }
}
