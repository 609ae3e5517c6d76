package io.gradguard.core;

import io.gradguard.core.diagnose.LrRange;
import io.gradguard.core.diagnose.RunDiagnosis;
import io.gradguard.core.event.EventKind;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.event.GuardListener;
import io.gradguard.core.event.RunSummary;
import io.gradguard.core.rule.TroubleRule;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The engine-agnostic brain: takes the numbers of one step ({@link StepStats}) and returns what to do
 * ({@link Decision}). It never sees a tensor. Not thread-safe: one guard per training run.
 *
 * <p>The {@code auto} ladder. The in-step rungs are the step's {@link StepPlan} (the same predicate a graph
 * adapter runs inside the graph):
 *
 * <ol>
 *   <li>non-finite loss or gradient: skip the step;
 *   <li>a norm more than {@code skip.ratio} times its typical value (or such a loss with a spiking norm):
 *       skip the batch as an outlier;
 *   <li>a norm above the clip threshold (adaptive: the spike threshold; or {@code clip.norm}): clip. Until the
 *       run first shows instability, an adaptive spike counts from {@code spike.calm} times the typical norm
 *       instead of {@code spike.ratio}, and is clipped down to {@code spike.ratio} times it
 *       ({@link StepPlan#clipTo()});
 *   <li>otherwise: step, untouched; every {@code snapshot.every} healthy steps, when the loss has improved on
 *       the last snapshot's, the adapter snapshots.
 * </ol>
 * With {@code recovery.percentile} set, every step after the first rollback is first capped at that percentile of
 * the norms since ({@link StepPlan#capTo()}), and the rungs judge the capped gradients.
 *
 * <p>Above them, the {@link TroubleRule rules}, in order, each one signal: {@code nonfinite.max} non-finite
 * steps in a row; an outlier after {@code skip.max} skipped ones; {@code loss.patience} loss spikes in a
 * row; the loss at {@code rise.ratio} times the run's first loss (from step 1, no statistics needed); the
 * smoothed loss at {@code regress.ratio} times the best it reached; the smoothed loss above {@code slide.ratio}
 * times the lowest of the last 500 steps for 50 steps in a row;
 * {@code growth.steps} clipped spikes in a row; a collapse after trouble (gradients {@code collapse.drop}
 * times below their early level and a loss that stopped improving); the gradients of {@code dead.share} of the
 * weights at zero for 20 steps (a network its first updates killed). Trouble rolls the run back to the last
 * healthy snapshot. Persistent clipping ({@code fold.rate} of 50 steps) lowers the learning rate instead.
 *
 * <p>A rollback restores the last healthy snapshot, cuts the learning-rate scale and re-warms it (see
 * {@link LrScaleSchedule}); an explosion before any healthy progress since the last rollback cuts twice
 * as deep, and a spike that must be clipped during the re-warm stops it there. When the rollback budget is
 * spent ({@code rollback.max} rollbacks without healthy progress, or a scale below {@code lr.floor}) the
 * guard halts with a diagnosis. {@code clip}
 * uses the in-step rungs 1 and 3 without rollback; {@code monitor} records everything and never acts.
 *
 * <p>This class is the facade adapters call; the work is split by role. {@link Ladder} decides (the in-step
 * plan, the rules, the statistics), {@link Recovery} repairs (snapshots, rollbacks, the learning-rate scale,
 * the halt), {@link Recorder} records (the event log and its header, SLF4J, the live diagnosis). The guard
 * sequences them for each step and keeps the run's state and totals.
 */
public final class Guard implements AutoCloseable {

    private final GuardConfig config;
    private final Recorder recorder = new Recorder();
    private final Recovery recovery;
    private final Ladder ladder;

    private GuardState state = GuardState.HEALTHY;
    private long steps;
    private long clipped;
    private long skipped;

    /**
     * Creates a guard that logs events through SLF4J and, when {@link GuardConfig#log()} is set, to a
     * JSONL file (opened by {@link #begin}).
     *
     * @param config the configuration
     */
    public Guard(GuardConfig config) {
        this.config = config;
        this.recovery = new Recovery(config, recorder);
        this.ladder = new Ladder(config, recorder, recovery);
    }

    /**
     * What this run says so far: where an explosion started, what in the model or the data made it
     * likely, and what learning rate, warm-up and clip threshold to use. Printed (SLF4J, warn) when a run
     * that needed help closes, and carried by the halt exception.
     *
     * @return the diagnosis
     */
    public RunDiagnosis diagnosis() {
        return recorder.diagnosis();
    }

    /**
     * Hands the diagnosis a learning-rate range test's outcome for this model (for example
     * {@code LrFinder.Result.toLrRange()} in the DJL adapter), so its learning-rate advice quotes it.
     *
     * @param range the outcome, or null
     * @return this guard
     */
    public Guard lrRange(LrRange range) {
        recorder.lrRange(range);
        return this;
    }

    /**
     * Adds a listener for steps, layers and events.
     *
     * @param listener the listener; its exceptions never reach training
     * @return this guard
     */
    public Guard addListener(GuardListener listener) {
        recorder.addListener(listener);
        return this;
    }

    /** @return the configuration */
    public GuardConfig config() {
        return config;
    }

    /** @return true when the policy is not {@code off} */
    public boolean active() {
        return config.policy() != Policy.OFF;
    }

    /** @return the current state */
    public GuardState state() {
        return state;
    }

    /** @return the learning-rate scale the adapter applies on top of the user's schedule */
    public double lrScale() {
        return recovery.schedule.scale();
    }

    /** @return the learning-rate scale schedule (history, ceiling) */
    public LrScaleSchedule schedule() {
        return recovery.schedule;
    }

    /** @return the step whose pre-update state the last snapshot holds, or -1 */
    public long snapshotStep() {
        return recovery.snapshotStep;
    }

    /**
     * The set of trainable parameters changed during the run (a block unfrozen or frozen after the first step).
     * Statistics that depend on the set restart: the per-parameter norms, the gradient-norm statistics (the
     * global norm now sums over other parameters) and the snapshot, which covered the old set; the next healthy
     * step is snapshotted again. Logged as a warning naming the change.
     *
     * @param step the first step measured with the new set
     * @param now the parameter names now, in measurement order
     */
    public void parametersChanged(long step, List<String> now) {
        List<String> names = ladder.names;
        if (!active() || now.equals(names)) {
            return;
        }
        List<String> added = now.stream().filter(n -> !names.contains(n)).toList();
        List<String> removed = names.stream().filter(n -> !now.contains(n)).toList();
        String message = "the trainable parameters changed at step " + step + ": " + names.size() + " -> " + now.size()
                + (added.isEmpty() ? "" : "; now trained: " + abbreviate(added))
                + (removed.isEmpty() ? "" : "; no longer trained: " + abbreviate(removed))
                + "; gradient-norm statistics restart and the next healthy step is snapshotted again";
        ladder.parametersChanged(now);
        recovery.snapshotStep = -1;
        warning(step, message);
    }

    private static String abbreviate(List<String> list) {
        return list.size() <= 5 ? String.join(", ", list) : String.join(", ", list.subList(0, 5)) + " and " + (list.size() - 5) + " more";
    }

    /**
     * Tells the guard that the adapter cannot snapshot or restore (it then never rolls back).
     *
     * @param reason why, logged as a warning event
     */
    public void disableRollback(String reason) {
        if (recovery.disableRollback()) {
            warning(Math.max(steps - 1, 0), "rollback disabled: " + reason);
        }
    }

    /**
     * Starts the run: remembers the parameters and writes the run header.
     *
     * @param info the run
     */
    public void begin(RunInfo info) {
        ladder.begin(info);
        if (active()) {
            recorder.begin(info, config);
        }
    }

    /**
     * @param step a step index
     * @return true when that step's per-layer norms (weights too) should be recorded
     */
    public boolean layersDue(long step) {
        return active() && config.layersEvery() > 0 && step % config.layersEvery() == 0;
    }

    /**
     * Whether the adapter should measure the weight norms together with this step's gradients (in the same host
     * copy): for a periodic layers record, and on a step that may be snapshotted, where the guard checks that the
     * weights are finite before it asks for a snapshot.
     *
     * @param step the step about to be measured
     * @return true when the weight norms are wanted
     */
    public boolean weightsDue(long step) {
        return layersDue(step) || active() && recovery.rollbackEnabled() && ladder.snapshotDue(step);
    }

    /**
     * Decides what to do with one step.
     *
     * <p>The in-step rungs (skip a non-finite or outlier batch, clip a norm above the threshold) are the
     * {@link #plan} of the step, applied to its numbers: the same predicate a graph adapter runs in the graph.
     * The ladder's {@link TroubleRule rules} then read the step and may call for a rollback (or a halt).
     *
     * @param s the step's numbers
     * @param weightNorms supplies the per-parameter weight norms when a layers record is written
     *     (periodically and at events); may be null or return null
     * @return the decision
     * @throws IllegalStateException when the guard is already halted
     */
    public Decision decide(StepStats s, Supplier<double[]> weightNorms) {
        if (state == GuardState.HALTED) {
            throw new IllegalStateException("GradGuard already halted the run; no further step is accepted");
        }
        if (!active()) {
            return Decision.step();
        }
        StepPlan plan = plan(s.step());
        weightNorms = memo(weightNorms);
        steps++;
        recorder.stepStarts();
        double scaleNow = recovery.schedule.scale();
        Decision d;
        if (plan.skipAll()) {
            recovery.skipRemaining--;
            d = Decision.skip("batch skipped after the rollback (" + recovery.skipRemaining + " more)");
        } else {
            d = ladder.decide(s, plan, weightNorms);
        }
        switch (d.action()) {
            case CLIP -> clipped++;
            case SKIP -> skipped++;
            default -> { }
        }
        boolean finiteStep = s.gradientsFinite() && !s.lossNonFinite();
        // did the update this step leaves behind come from finite numbers? (a skip leaves the weights as they were)
        ladder.lastUpdateHealthy = switch (d.action()) {
            case STEP, CLIP -> finiteStep;
            case ROLLBACK -> true;
            default -> ladder.lastUpdateHealthy;
        };
        recovery.stable.step(d.action() == Action.STEP && recovery.lastHealthyStep == s.step(), scaleNow);
        state = state.to(switch (d.action()) {
            case STEP -> recovery.schedule.scale() < 1.0 && recovery.rollbacks > 0 ? GuardState.RECOVERING : GuardState.HEALTHY;
            case CLIP -> GuardState.CLIPPING;
            case SKIP -> GuardState.SKIPPING;
            case ROLLBACK -> GuardState.RECOVERING;
            case ABORT -> GuardState.HALTED;
        });
        recorder.step(s, d, recovery.schedule.scale(), ladder.names, layersDue(s.step()), weightNorms);
        return d;
    }

    /**
     * Hands the guard the first layer's gradient split by input column, measured with the step about to be
     * decided (the adapter does so on steps whose weights it measures); it goes into that step's layers record,
     * where the diagnosis reads the scale of each input.
     *
     * @param param the parameter the columns belong to
     * @param columns the gradient's L2 norm per input column
     */
    public void inputColumns(String param, double[] columns) {
        recorder.inputColumns(param, columns);
    }

    /** @return a supplier that asks its source at most once */
    private static Supplier<double[]> memo(Supplier<double[]> source) {
        if (source == null) {
            return null;
        }
        double[][] held = new double[1][];
        boolean[] asked = new boolean[1];
        return () -> {
            if (!asked[0]) {
                asked[0] = true;
                held[0] = source.get();
            }
            return held[0];
        };
    }

    /**
     * The thresholds under which {@link #decide} will act on the next step, for adapters that must act
     * inside a graph before the step's numbers reach Java. {@code plan(step).predict(norm, loss)} is the
     * action {@code decide} then returns for those numbers, unless a rule of the ladder rolls back or halts
     * (which the adapter carries out after the step).
     *
     * @param step the index of the next step
     * @return the plan; does not change the guard
     */
    public StepPlan plan(long step) {
        double inf = Double.POSITIVE_INFINITY;
        if (!active() || state == GuardState.HALTED) {
            return new StepPlan(step, inf, inf, inf, inf, inf, inf, false, false, false, 1.0);
        }
        return ladder.plan(step);
    }

    /**
     * Publishes a warning event: something that weakens the guard or that the user should know, not an
     * explosion.
     *
     * @param step the step it concerns
     * @param message the sentence
     */
    public void warning(long step, String message) {
        if (active()) {
            recorder.warning(step, message);
        }
    }

    /**
     * Records that the update of a step the guard let through did not happen: the optimizer threw. The step's
     * record says what the guard decided; this warning (with {@code failed_step}) says the update failed.
     *
     * @param step the step whose update threw
     * @param error what the optimizer threw
     */
    public void stepFailed(long step, RuntimeException error) {
        if (active()) {
            recorder.event(new GuardEvent(step, EventKind.WARNING, "step " + step + ": the optimizer's update threw (" + error
                    + "); that step was not applied", null, Map.of("failed_step", step)));
        }
    }

    /** @return the totals so far */
    public RunSummary summary() {
        return new RunSummary(steps, clipped, skipped, ladder.nonFinite, recovery.rollbacks, recovery.schedule.scale(),
                state == GuardState.HALTED);
    }

    /** Publishes the totals and closes the event log. Idempotent. */
    @Override
    public void close() {
        recorder.close(summary());
    }

    static String fmt(double v) {
        if (!Double.isFinite(v)) {
            return Double.toString(v);
        }
        double a = Math.abs(v);
        if (a != 0 && (a >= 1e5 || a < 1e-3)) {
            return String.format(Locale.ROOT, "%.3g", v);
        }
        return String.format(Locale.ROOT, "%.4g", v);
    }

    /** @return "percentile 10" for 10, "percentile 12.5" for 12.5 */
    static String percentile(double p) {
        return "percentile " + (p == Math.rint(p) ? Long.toString((long) p) : Double.toString(p));
    }
}
