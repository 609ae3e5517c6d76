package io.gradguard.core.diagnose;

import static io.gradguard.core.diagnose.FindingText.fmt;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Finding {@code clip}: the clip threshold to use, the 95th percentile of the healthy steps' gradient norms
 * (given once at least 20 healthy steps were seen, for reference even in a run that needed no help).
 */
final class ClipRule {

    /** Fewest healthy steps whose percentiles mean something. */
    private static final int MIN_HEALTHY = 20;

    private ClipRule() {}

    static Optional<Finding> clip(RunObservations o, boolean needed) {
        LogHistogram healthy = o.healthy();
        if (healthy.count() < MIN_HEALTHY) {
            return Optional.empty();
        }
        double p50 = healthy.quantile(0.5);
        double p95 = healthy.quantile(0.95);
        double max = healthy.max();
        String ev = String.format(Locale.ROOT, "%d healthy steps: median gradient norm %s, 95th percentile %s, largest %s",
                healthy.count(), fmt(p50), fmt(p95), fmt(max));
        return Optional.of(new Finding("clip", "Clip threshold: " + fmt(p95) + " sits just above the healthy steps'"
                + " norms" + (needed ? "" : " (for reference: this run needed no clipping)") + ".",
                "clip the global gradient norm at about " + fmt(p95) + (needed ? "" : " if you want a safety net")
                        + "; a threshold far below the median clips every step and slows training, one far above the"
                        + " largest healthy norm stops no spike.", List.of(ev)));
    }
}
