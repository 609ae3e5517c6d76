package io.gradguard.djl.internal;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterServer;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.optimizer.Optimizer;
import io.gradguard.core.Action;
import io.gradguard.core.Decision;
import io.gradguard.core.Guard;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.GuardSession;
import io.gradguard.core.Policy;
import io.gradguard.core.RunInfo;
import io.gradguard.core.SnapshotLocation;
import io.gradguard.core.StepStats;
import io.gradguard.core.diagnose.RunDiagnosis;
import io.gradguard.djl.GradGuardDivergedException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One guard bound to one DJL trainer: measures each step with a {@link GradientInspector}, asks the core
 * {@link Guard}, and carries out the decision, either through a {@link GatedParameterServer} inside
 * {@code Trainer.step()} or directly on the gradients. Shared by the listener, the loop guard and the
 * agent. Not part of the API.
 */
public final class DjlGuardSession extends GuardSession implements BatchVerdicts {

    private final GradientActuator actuator = new GradientActuator();

    private Trainer trainer;
    private Trainer prepared;
    /** the trainer whose preparation is complete: later {@link #prepare} calls for it return at once */
    private Trainer settled;
    private int preparations;
    private GradientInspector inspector;
    private GatedParameterServer gate;
    private Optimizer optimizer;
    private TrainingSnapshot snapshot;
    private boolean warnedDirectSkip;
    private final Map<String, Object> headerExtra = new LinkedHashMap<>();
    private final ListenerStandIns standIns = new ListenerStandIns(this);
    private Object lastBatch;
    private boolean lastApplied;

    /**
     * @param config the configuration
     * @param attachment how the guard is attached: {@code listener}, {@code loop}, {@code agent}
     */
    public DjlGuardSession(GuardConfig config, String attachment) {
        super(config, attachment);
    }

    /**
     * Adds a fact to the run header (written at the first step).
     *
     * @param key snake_case key
     * @param value the value
     */
    public void putHeader(String key, Object value) {
        headerExtra.put(key, value);
    }

    /**
     * Turns the guard off for the rest of the run after an unexpected internal error: one warning, and
     * training goes on unguarded. The only exception GradGuard lets into a run is its deliberate halt.
     *
     * @param error what went wrong
     */
    public void disable(RuntimeException error) {
        stepAside("internal error, guard turned off for the rest of the run: " + error, error);
    }

    @Override
    protected void onStepAside() {
        if (gate != null) {
            gate.arm(1.0);
        }
        // the batch whose decision will not come now trains unguarded: its evaluator update goes on while the
        // batch is still open (later batches pass straight through, the guard no longer acts)
        handUndecidedBatches();
    }

    /**
     * Hands any batch still waiting for the guard's decision to DJL's evaluators as trained on: the step runs
     * without a decision (the guard turned itself off, or the loop called {@code trainer.step()} itself).
     */
    private void handUndecidedBatches() {
        standIns.decided(true);
    }

    /**
     * Called when a deferred batch was closed before the guard could decide on it (a loop that calls
     * {@code trainer.step()} itself, on a trainer whose step could not be gated): its evaluator update is lost.
     */
    @Override
    public void lostEvaluatorBatch() {
        warnOnce("a batch was closed before the guard decided on it (the loop called trainer.step() itself and"
                + " Trainer.step() could not be gated): DJL's evaluators did not see it");
    }

    /** @return true while the guard works (not turned off by an internal error) */
    public boolean working() {
        return !steppedAside() && guard().active();
    }

    /** @return whether the guard changes steps (policy auto or clip) */
    @Override
    public boolean acts() {
        return !steppedAside() && guard().config().policy().acts();
    }

    /**
     * Prepares a trainer as soon as it exists (before its parameters are initialized): gates its
     * parameter server and stands in for DJL's divergence check. Idempotent, and cheap after the first call
     * for a trainer: once the gate is in place (or not wanted), or the trainer has been inspected, later calls
     * return at once, so a loop that calls it on every step pays nothing.
     *
     * @param t the trainer
     * @param useGate whether decisions go through the gated parameter server
     */
    public void prepare(Trainer t, boolean useGate) {
        if (!guard().active() || t == settled) {
            return;
        }
        preparations++;
        if (t != prepared) {
            // a new trainer: its own parameter server and optimizer; the one before is no longer this guard's
            if (prepared != null) {
                GuardClaims.release(prepared, this);
            }
            prepared = t;
            gate = null;
            optimizer = null;
        }
        if (!"agent".equals(attachment())) {
            // a guard the application wired itself wins over the agent
            GuardClaims.takeOver(t, this);
        }
        if (useGate && gate == null) {
            ParameterStore store = TrainerAccess.parameterStore(t);
            ParameterServer server = store == null ? null : TrainerAccess.parameterServer(store);
            if (server instanceof GatedParameterServer existing) {
                gate = existing;
            } else if (server != null) {
                GatedParameterServer g = new GatedParameterServer(server, actuator);
                if (TrainerAccess.replaceParameterServer(store, g)) {
                    gate = g;
                }
            }
            if (gate != null) {
                // a gate another guard put in (the agent's) reports to this one from now on
                gate.foldClipsInto(OptimizerAccess.optimizer(t));
                gate.onUpdateFailure(this::updateFailed);
                gate.beforeUpdate(this::handUndecidedBatches);
            }
        }
        standIns.install(t, acts(), this::warnOnce);
        if (optimizer == null && guard().config().policy() == Policy.AUTO) {
            optimizer = OptimizerAccess.optimizer(t);
            if (optimizer == null) {
                guard().disableRollback("could not reach the trainer's optimizer (its state cannot be restored"
                        + " and its learning rate cannot be scaled)");
            } else if (OptimizerAccess.scaleLearningRate(optimizer, guard()::lrScale) == 0) {
                guard().disableRollback("optimizer " + optimizer.getClass().getName()
                        + " has no learning-rate tracker field to scale");
            }
        }
        // the parameter server may only exist once the parameters are initialized: keep trying until the gate is
        // in place, or until the first inspection of this trainer (after which it never will be)
        if (!useGate || gate != null || trainer == t) {
            settled = t;
        }
    }

    /** @return how many times {@link #prepare} did its work (not counting calls that returned at once) */
    int preparations() {
        return preparations;
    }

    private TrainingSnapshot newSnapshot() {
        return new TrainingSnapshot(inspector, optimizer, guard().config().snapshotLocation() == SnapshotLocation.HOST);
    }

    /**
     * A block frozen or unfrozen since the last step: measure the new trainable set from now on, and start the
     * snapshot over for it (the old one does not cover the newly trained parameters).
     */
    private void rebindParameters(Trainer t, long step) {
        inspector = new GradientInspector(t);
        if (snapshot != null) {
            snapshot.close();
            snapshot = newSnapshot();
        }
        guard().parametersChanged(step, inspector.describe().stream().map(RunInfo.Parameter::name).toList());
    }

    private void bind(Trainer t) {
        if (t == trainer) {
            return;
        }
        trainer = t;
        inspector = new GradientInspector(t);
        if (snapshot != null) {
            snapshot.close();
        }
        snapshot = guard().config().policy() == Policy.AUTO && guard().config().snapshotEvery() > 0 ? newSnapshot() : null;
        Map<String, Object> extra = new LinkedHashMap<>(headerExtra);
        extra.put("devices", Arrays.stream(t.getDevices()).map(Device::toString).collect(Collectors.toList()));
        extra.put("gated_step", gate != null);
        if (snapshot != null) {
            extra.put("snapshot_location", guard().config().snapshotLocation().key());
            extra.put("snapshot_bytes", TrainingSnapshot.estimateBytes(inspector, optimizer));
            extra.put("optimizer", optimizer == null ? null : optimizer.getClass().getName());
        }
        Engine engine = t.getManager().getEngine();
        guard().begin(new RunInfo(
                "DJL " + Engine.getDjlVersion() + " / " + engine.getEngineName() + " " + engine.getVersion(),
                inspector.device().toString(), attachment(), inspector.describe(), extra));
        if (snapshot != null && !snapshot.uncaptured().isEmpty()) {
            guard().warning(0, "optimizer state fields " + snapshot.uncaptured() + " cannot be captured; a rollback"
                    + " leaves them as they are");
        }
        if (!inspector.seesAllDevices()) {
            warnOnce("could not reach the per-device parameter copies of a " + t.getDevices().length
                    + "-device trainer; norms use the first device only");
        }
    }

    /**
     * Measures the step that backward just produced and decides what to do with it.
     *
     * @param t the trainer
     * @param loss the batch loss, or null when unknown
     * @return the decision (already published to the event log)
     */
    public Decision inspect(Trainer t, NDArray loss) {
        return inspect(t, loss, null);
    }

    /**
     * Like {@link #inspect(Trainer, NDArray)}, for the batch DJL handed to listeners (so that a deferred
     * evaluator listener knows which batch the decision is about).
     *
     * @param t the trainer
     * @param loss the batch loss, or null
     * @param batch the listeners' batch data, or null
     * @return the decision
     */
    public Decision inspect(Trainer t, NDArray loss, Object batch) {
        if (!guard().active()) {
            return Decision.step();
        }
        Decision d = decide(t, loss);
        lastBatch = batch;
        lastApplied = d.applies();
        standIns.decided(d.applies());
        return d;
    }

    /**
     * @param batch the listeners' batch data
     * @return whether the guard applied the update of that batch, or null when it has not decided on it
     */
    @Override
    public Boolean appliedFor(Object batch) {
        return batch != null && batch == lastBatch ? lastApplied : null;
    }

    private Decision decide(Trainer t, NDArray loss) {
        bind(t);
        long current = steps();
        if (inspector.trainableSetChanged()) {
            rebindParameters(t, current);
        }
        boolean due = guard().weightsDue(current);
        GradientInspector.Measurement m = inspector.measure(loss, due);
        StepStats stats = StepStats.of(current, m.loss(), loss != null, m.gradNorms());
        if (m.inputColumns() != null) {
            guard().inputColumns(inspector.describe().get(inspector.inputParameter()).name(), m.inputColumns());
        }
        double[] pre = current == 0 && m.weightNorms() == null ? inspector.weightNorms() : m.weightNorms();
        if (current == 0) {
            String flow = FirstStepFlow.warning(inspector, m.gradNorms(), pre, OptimizerAccess.optimizer(t), m.loss());
            if (flow != null) {
                guard().warning(0, flow);
            }
        }
        return decideAndAct(stats, () -> pre != null ? pre : inspector.weightNorms());
    }

    @Override
    protected void takeSnapshot(long step) {
        if (snapshot != null) {
            snapshot.take(step);
        }
    }

    @Override
    protected void snapshotFailed() {
        if (snapshot != null) {
            snapshot.close();
            snapshot = null;
        }
    }

    @Override
    protected void restoreSnapshot() {
        // on a halt too: DJL's SaveModelTrainingListener (when the trainer closes) or the app's own handler then
        // saves the last healthy state
        if (snapshot != null && snapshot.step() >= 0) {
            snapshot.restore();
        }
    }

    @Override
    protected RuntimeException newHalt(long step, String reason, RunDiagnosis diagnosis) {
        return new GradGuardDivergedException(step, reason, diagnosis);
    }

    /** @return device-to-host copies made so far for this trainer's measurements */
    public long hostReads() {
        return inspector == null ? 0 : inspector.hostReads();
    }

    /** @return the snapshot holder, or null when rollback is off */
    public TrainingSnapshot snapshot() {
        return snapshot;
    }


    /**
     * Carries out a decision: the one place where this adapter clips, skips or halts (the rollback's restore is
     * done by the shared {@link #decideAndAct} before this). A clip is armed on the gate when there is one, so that
     * it is folded into the optimizer's update, and applied to the gradients otherwise. A skip (or the step of a
     * rollback) blocks the update on the gate when the update runs after this call whatever the guard says
     * ({@code EasyTrain} calls {@code trainer.step()} after the listeners); otherwise it zeroes the gradients, and a
     * caller that decides itself whether to run the update (the loop guard, the agent) does not run it.
     *
     * @param d the decision
     * @param updateFollows true when the update runs after this call in any case (the listener)
     * @throws GradGuardDivergedException for ABORT
     */
    public void carryOut(Decision d, boolean updateFollows) {
        switch (d.action()) {
            case ABORT -> throw halt(d);
            case STEP, CLIP -> {
                double coef = d.action() == Action.CLIP ? d.clipCoef() : 1.0;
                if (gate != null) {
                    gate.arm(coef);
                } else if (coef < 1.0) {
                    inspector.forEachGradient(g -> actuator.scale(g, coef));
                }
            }
            case SKIP, ROLLBACK -> {
                if (gate != null && updateFollows) {
                    gate.arm(0.0);
                    return;
                }
                if (gate != null) {
                    gate.arm(1.0);
                } else if (updateFollows && !warnedDirectSkip) {
                    warnedDirectSkip = true;
                    warnOnce("could not gate Trainer.step(): skipped steps zero the gradients, but the optimizer still"
                            + " runs on them (momentum and Adam moments decay one step)");
                }
                inspector.forEachGradient(actuator::zero);
            }
        }
    }

    /** Marks the end of an update run after {@link #carryOut}: the gate passes updates through again. */
    public void stepDone() {
        if (gate != null) {
            gate.stepDone();
        }
    }

    /**
     * Ties {@code o} to the life of the trainer this session gates: the trainer's parameter server (this session's
     * gate) holds it from now on.
     *
     * @param o what to keep alive with the trainer
     * @return false when there is no gate (yet): the parameter server exists only once the trainer is initialized
     */
    public boolean keepAliveWithTrainer(Object o) {
        GatedParameterServer g = gate;
        if (g == null) {
            return false;
        }
        g.keepAlive(o);
        return true;
    }

    /** Frees the snapshot and gives up the claim on the trainer. */
    @Override
    protected void closeEngine() {
        if (snapshot != null) {
            snapshot.close();
        }
        if (prepared != null) {
            GuardClaims.release(prepared, this);
        }
    }
}
