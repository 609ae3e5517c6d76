package io.gradguard.core.event;

import java.util.Locale;

/** The kinds of {@link GuardEvent}, as written in the event log's {@code kind} field. */
public enum EventKind {
    /** A non-finite loss or gradient. */
    NONFINITE,
    /** A gradient-norm spike (clipped or skipped). */
    SPIKE,
    /** A loss spike. */
    LOSS_SPIKE,
    /** Clipping has not stopped the norm from growing. */
    GROWTH,
    /** The loss rose far above where the run started. */
    RISE,
    /** The run collapsed: the loss went flat at a level it does not leave and the gradients vanished. */
    COLLAPSE,
    /** The learning-rate scale was lowered without a rollback (persistent clipping folded into it). */
    LR_CUT,
    /** A healthy snapshot of parameters and optimizer state was taken. */
    SNAPSHOT,
    /** The run was rolled back to a healthy snapshot. */
    ROLLBACK,
    /** The run was halted. */
    ABORT,
    /** Something the user should know that is not an explosion. */
    WARNING;

    /** @return the snake_case name used in the event log */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
