package io.gradguard.core;

import io.gradguard.core.diagnose.RunDiagnosis;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The steps every engine adapter shares, written once: it counts the steps, hands each step's numbers to the
 * {@link Guard}, carries out the snapshot, rollback and halt that the decision asks for, records what could not
 * be done, and fails open. An engine adapter (the DJL and the TensorFlow session) measures the step in its own
 * way and supplies the engine operations: take and restore the snapshot of parameters and optimizer state, and
 * build its halt exception. How the in-step actions (clip, skip) reach the update is the adapter's own business
 * (a gate in DJL's parameter server, a predicate inside a TensorFlow graph).
 *
 * <p>Fail-open: the only exception an adapter lets into a run is its deliberate halt. Anything else that goes
 * wrong inside the guard turns it off for the rest of the run ({@link #stepAside}) with one warning.
 */
public abstract class GuardSession implements AutoCloseable {

    private final Guard guard;
    private final String attachment;
    private final Set<String> warned = new HashSet<>();
    private long step;
    private long failedStep = -1;
    private boolean steppedAside;

    /**
     * @param config the configuration
     * @param attachment how the guard is attached ({@code listener}, {@code loop}, {@code agent}, {@code api})
     */
    protected GuardSession(GuardConfig config, String attachment) {
        this.guard = new Guard(config);
        this.attachment = attachment;
    }

    /** @return the core guard */
    public final Guard guard() {
        return guard;
    }

    /** @return how the guard is attached */
    protected final String attachment() {
        return attachment;
    }

    /** @return the number of steps decided so far (the index of the next step) */
    public final long steps() {
        return step;
    }

    /** @return true once the guard has stepped aside after an internal error */
    public final boolean steppedAside() {
        return steppedAside;
    }

    /**
     * Decides one step and carries out what the decision asks of the engine: a snapshot when the step is
     * snapshotted (when that fails, rollback is turned off and the run goes on), the restore of the last snapshot
     * on a rollback, and on a halt the restore too, so that a halted run is left at its last healthy state and not
     * the exploded one (whatever saves the model next saves that). The step counter moves on. The halt itself is
     * not thrown here: see {@link #halt(Decision)}.
     *
     * @param stats the step's numbers; their step index is {@link #steps()}
     * @param weightNorms the weight norms on request (may be null)
     * @return the decision
     */
    protected final Decision decideAndAct(StepStats stats, Supplier<double[]> weightNorms) {
        step++;
        Decision d = guard.decide(stats, weightNorms);
        if (d.snapshot()) {
            try {
                takeSnapshot(stats.step());
            } catch (RuntimeException e) {
                // e.g. no device memory left for the copy: go on without rollback rather than fail the run
                snapshotFailed();
                guard.disableRollback("taking a snapshot failed (" + e + ")");
            }
        } else if (d.action() == Action.ROLLBACK) {
            restoreSnapshot();
        } else if (d.action() == Action.ABORT && guard.snapshotStep() >= 0) {
            restoreSnapshot();
        }
        return d;
    }

    /**
     * The engine's halt exception for a decision to halt.
     *
     * @param d an {@link Action#ABORT} decision
     * @return the exception to throw (the engine's, implementing {@link GuardHalt})
     */
    protected final RuntimeException halt(Decision d) {
        return newHalt(Math.max(step - 1, 0), d.reason(), guard.diagnosis());
    }

    /**
     * Records that the optimizer threw during the update of the step just decided (once per step, however many
     * parameters' updates threw).
     *
     * @param error what the optimizer threw
     */
    public final void updateFailed(RuntimeException error) {
        long s = Math.max(step - 1, 0);
        if (s != failedStep) {
            failedStep = s;
            guard.stepFailed(s, error);
        }
    }

    /**
     * Turns the guard off for the rest of the run after an unexpected internal error: one warning (SLF4J and the
     * event log), then {@link #onStepAside()}, and training goes on unguarded.
     *
     * @param why what went wrong, for the event log
     * @param error the error, for SLF4J (may be null)
     */
    protected final void stepAside(String why, Throwable error) {
        if (steppedAside) {
            return;
        }
        steppedAside = true;
        org.slf4j.LoggerFactory.getLogger("io.gradguard").warn("GradGuard: internal error; this run goes on unguarded", error);
        guard.warning(Math.max(step - 1, 0), why);
        onStepAside();
    }

    /**
     * A warning, logged once per distinct message (a guard told the same thing on every step says it once).
     *
     * @param message the sentence
     */
    protected final void warnOnce(String message) {
        if (warned.add(message)) {
            // before the run header the guard holds it until its log is open
            guard.warning(Math.max(step - 1, 0), message);
        }
    }

    /**
     * Takes a snapshot of the parameters and the optimizer state before the given step.
     *
     * @param step the step
     */
    protected abstract void takeSnapshot(long step);

    /** A snapshot could not be taken: free what the attempt holds (rollback is turned off after this). */
    protected abstract void snapshotFailed();

    /** Restores the last snapshot. */
    protected abstract void restoreSnapshot();

    /**
     * @param step the step at which the guard halted
     * @param reason the halt message
     * @param diagnosis the run's diagnosis
     * @return the engine's halt exception
     */
    protected abstract RuntimeException newHalt(long step, String reason, RunDiagnosis diagnosis);

    /** The guard stepped aside: release anything that holds the next update back (a gate, a deferred batch). */
    protected void onStepAside() {
    }

    /** Frees the engine's resources (the snapshot); called by {@link #close()} after the guard closed. */
    protected void closeEngine() {
    }

    /** Closes the guard (writes the totals, closes the event log), then frees the engine's resources. */
    @Override
    public final synchronized void close() {
        guard.close();
        closeEngine();
    }
}
