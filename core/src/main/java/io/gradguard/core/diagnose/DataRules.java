package io.gradguard.core.diagnose;

import static io.gradguard.core.diagnose.FindingText.fmt;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Findings that blame the batches or the loss rather than the learning rate: {@code data} (spikes that came and
 * went in one step, between healthy steps, point at single batches) and {@code loss} (spikes that persist at a
 * low learning rate, or loss spikes outnumbering gradient spikes, point at the loss's numerics or outliers).
 */
final class DataRules {

    /** Spikes at a low learning-rate scale, in a run that otherwise trains, that make the loss rule fire. */
    static final int PERSISTENT_SPIKES = 10;
    /** One-off steps named in the text; the rest are counted. */
    private static final int MAX_NAMED = 8;

    private DataRules() {}

    static Optional<Finding> data(RunObservations o) {
        List<Long> oneOff = o.oneOff();
        int episodes = o.episodes();
        if (oneOff.isEmpty() || oneOff.size() * 4 < episodes) {
            return Optional.empty();
        }
        StringBuilder steps = new StringBuilder();
        for (int i = 0; i < oneOff.size() && i < MAX_NAMED; i++) {
            steps.append(i > 0 ? ", " : "").append(oneOff.get(i));
        }
        if (oneOff.size() > MAX_NAMED) {
            steps.append(" and ").append(oneOff.size() - MAX_NAMED).append(" more");
        }
        List<String> ev = new ArrayList<>();
        ev.add(oneOff.size() + " of " + episodes + " spike episodes came and went in one step, between healthy steps:"
                + " steps " + steps);
        if (o.oneOffParams().get(0) != null) {
            ev.add("first one in '" + o.oneOffParams().get(0) + "'");
        }
        return Optional.of(new Finding("data", "Data: one-off spikes tied to single batches (the batches at steps "
                + steps + "), not a trend in training.",
                "inspect those batches for corrupted records, outliers, unnormalized features or wrong labels; filter or"
                        + " clip them at the source (GradGuard skipped or clipped them this time).", ev));
    }

    static Optional<Finding> loss(RunObservations o) {
        int spikesAtLowScale = o.spikesAtLowScale();
        int lossSpikes = o.lossSpikes();
        int gradSpikes = o.gradSpikes();
        long healthy = o.healthy().count();
        long steps = o.steps();
        double lowScale = RunObservations.LOW_SCALE;
        if (spikesAtLowScale >= PERSISTENT_SPIKES && healthy * 2 >= steps) {
            return Optional.of(new Finding("loss", "Not the learning rate alone: " + spikesAtLowScale
                    + " spikes came after the learning rate had been cut to " + fmt(lowScale) + "x or less (down to "
                    + fmt(o.lowestSpikeScale()) + "x). Batches that blow up whatever the rate point at the loss's numerics (a"
                    + " log or a division near zero) or at outlier records.",
                    "guard the loss: an epsilon inside logs and denominators, or clamp them; prefer a robust loss (Huber"
                            + " instead of a relative error); look for outlier records in the batches named in the event log.",
                    List.of(spikesAtLowScale + " spike or non-finite events at a learning-rate scale <= " + fmt(lowScale)
                            + "; loss spikes " + lossSpikes + ", gradient spikes " + gradSpikes, healthy + " of "
                            + steps + " steps were healthy, so the run trains between the spikes")));
        }
        if (lossSpikes == 0 || lossSpikes <= gradSpikes) {
            return Optional.empty();
        }
        return Optional.of(new Finding("loss", "Loss: " + lossSpikes + " loss spikes against " + gradSpikes
                + " gradient spikes; the loss itself jumps, which points at a loss with a log or a division near zero.",
                "guard the loss: add an epsilon inside logs and denominators (or clamp them), or use a robust loss"
                        + " (Huber instead of a relative error).",
                List.of("loss spikes " + lossSpikes + ", gradient spikes and non-finite steps " + gradSpikes)));
    }
}
