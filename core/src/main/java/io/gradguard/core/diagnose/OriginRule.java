package io.gradguard.core.diagnose;

import static io.gradguard.core.diagnose.FindingText.cut;

import io.gradguard.core.event.GuardEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Finding {@code origin}: where the trouble started, the first trouble event's step, kind and parameter. */
final class OriginRule {

    private OriginRule() {}

    static Optional<Finding> origin(RunObservations o) {
        GuardEvent first = o.first();
        if (first == null) {
            return Optional.empty();
        }
        String where = first.param() != null ? " in '" + first.param() + "'" : "";
        String what = switch (first.kind()) {
            case NONFINITE -> "a non-finite loss or gradient";
            case SPIKE -> "a gradient-norm spike";
            case LOSS_SPIKE -> "a loss spike";
            case GROWTH -> "runaway growth of the gradient norm";
            default -> "a " + first.kind().key();
        };
        List<String> ev = new ArrayList<>();
        ev.add("step " + first.step() + " " + first.kind().key() + ": " + cut(first.detail(), 240));
        return Optional.of(new Finding("origin", "The trouble started at step " + first.step() + " with "
                + what + where + ".", "", ev));
    }
}
