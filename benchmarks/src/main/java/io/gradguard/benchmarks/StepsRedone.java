package io.gradguard.benchmarks;

import io.gradguard.core.event.EventKind;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.event.GuardListener;

/** Counts the steps a run trains again because of rollbacks: the sum of {@code from_step - to_step}. */
final class StepsRedone implements GuardListener {

    private long total;

    @Override
    public void onEvent(GuardEvent e) {
        if (e.kind() == EventKind.ROLLBACK && e.data().get("from_step") instanceof Number from
                && e.data().get("to_step") instanceof Number to) {
            total += from.longValue() - to.longValue();
        }
    }

    /** @return the steps redone so far */
    long total() {
        return total;
    }
}
