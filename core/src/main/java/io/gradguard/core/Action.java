package io.gradguard.core;

import java.util.Locale;

/** What the adapter does with one optimizer step. */
public enum Action {
    /** Apply the update as it is. */
    STEP,
    /** Scale every gradient by the decision's clip coefficient, then apply the update. */
    CLIP,
    /** Zero the gradients and leave the parameters and the optimizer state untouched. */
    SKIP,
    /** Restore the last healthy snapshot (parameters and optimizer state). */
    ROLLBACK,
    /** Stop the run with the decision's diagnosis. */
    ABORT;

    /** @return the lower-case name used in the event log */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
