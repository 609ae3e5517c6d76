package io.gradguard.core.rule;

import io.gradguard.core.event.EventKind;

/**
 * What a rule found: a reason to roll back to the last healthy snapshot and lower the learning rate.
 *
 * @param rule the rule's name
 * @param kind the event kind it is logged under ({@code null}: the rule logged its own event already)
 * @param why the sentence for the event log and the rollback's detail
 * @param fatalWithoutRollback true when the parameters are no longer usable, so that a run that cannot roll
 *     back must halt (a run of non-finite steps); false when it may go on as it is
 * @param cutsRate true when the trouble is the learning rate's doing, so the rollback cuts it (and remembers the
 *     scale as unstable); false when something else broke the run (the parameters corrupted from outside)
 */
public record Trouble(String rule, EventKind kind, String why, boolean fatalWithoutRollback, boolean cutsRate) {

    /**
     * Trouble the learning rate is blamed for: the rollback cuts it.
     *
     * @param rule the rule's name
     * @param kind the event kind, or null
     * @param why the sentence
     * @param fatalWithoutRollback whether a run that cannot roll back must halt
     */
    public Trouble(String rule, EventKind kind, String why, boolean fatalWithoutRollback) {
        this(rule, kind, why, fatalWithoutRollback, true);
    }
}
