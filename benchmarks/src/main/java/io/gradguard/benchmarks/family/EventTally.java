package io.gradguard.benchmarks.family;

import io.gradguard.core.event.EventKind;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.event.GuardListener;
import io.gradguard.djl.doctor.FlowCheck;
import java.util.EnumMap;
import java.util.Map;
import java.util.stream.Collectors;

/** Counts what GradGuard logged in one run: events by kind, and the steps its rollbacks threw away. */
final class EventTally implements GuardListener {

    /** The events text's name for the guard's first-step gradient-flow warning (a {@code warning} event). */
    static final String FLOW_WARNING = "flow_warning";

    private final Map<EventKind, Integer> kinds = new EnumMap<>(EventKind.class);
    private int flowWarnings;
    private long redone;

    @Override
    public void onEvent(GuardEvent e) {
        if (e.kind() == EventKind.SNAPSHOT) {
            return;
        }
        if (e.kind() == EventKind.WARNING && e.detail() != null && e.detail().startsWith(FlowCheck.FIRST_STEP_WARNING)) {
            flowWarnings++;
            return;
        }
        kinds.merge(e.kind(), 1, Integer::sum);
        if (e.kind() == EventKind.ROLLBACK && e.data().get("from_step") instanceof Number from
                && e.data().get("to_step") instanceof Number to) {
            redone += from.longValue() - to.longValue();
        }
    }

    /** @return steps whose progress a rollback threw away */
    long redone() {
        return redone;
    }

    /** @return {@code kind:count} pairs joined by {@code ;} */
    String text() {
        String text = kinds.entrySet().stream().map(e -> e.getKey().key() + ":" + e.getValue())
                .collect(Collectors.joining(";"));
        return flowWarnings == 0 ? text : text + (text.isEmpty() ? "" : ";") + FLOW_WARNING + ":" + flowWarnings;
    }
}
