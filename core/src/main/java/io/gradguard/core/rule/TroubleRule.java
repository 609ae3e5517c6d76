package io.gradguard.core.rule;

/**
 * One rung of the decision ladder above the in-step ones: reads every step and says when the run is in
 * trouble that skipping or clipping a step does not fix. The guard then rolls back to its last healthy
 * snapshot and lowers the learning rate, or halts when it cannot. A new signal is a new rule.
 *
 * <p>Rules are consulted in ladder order after the step's in-step action is known; the first that reports
 * trouble wins. Each keeps its own small state, and forgets it when the run is rolled back.
 */
public interface TroubleRule {

    /** @return the rule's name (snake_case), as events and the diagnosis call it */
    String name();

    /**
     * Reads one step.
     *
     * @param step the step
     * @return the trouble, or null
     */
    Trouble check(StepView step);

    /** The run was rolled back: what led here no longer holds. */
    default void rolledBack() {}
}
