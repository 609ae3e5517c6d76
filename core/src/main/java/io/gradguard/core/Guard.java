package io.gradguard.core;

import io.gradguard.core.clip.ClipThreshold;
import io.gradguard.core.clip.FixedClipThreshold;
import io.gradguard.core.clip.GlobalNormClip;
import io.gradguard.core.detect.ParameterNormTracker;
import io.gradguard.core.detect.SpikeDetector;
import io.gradguard.core.diagnose.Diagnoser;
import io.gradguard.core.diagnose.StableScales;
import io.gradguard.core.diagnose.Finding;
import io.gradguard.core.diagnose.LrRange;
import io.gradguard.core.diagnose.RunDiagnosis;
import io.gradguard.core.event.EventKind;
import io.gradguard.core.event.EventPublisher;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.event.GuardListener;
import io.gradguard.core.event.JsonlEventLog;
import io.gradguard.core.event.LayerRecord;
import io.gradguard.core.event.RunSummary;
import io.gradguard.core.event.Slf4jEventLog;
import io.gradguard.core.event.StepRecord;
import io.gradguard.core.rule.CollapseRule;
import io.gradguard.core.rule.LossRegressionRule;
import io.gradguard.core.rule.LossRiseRule;
import io.gradguard.core.rule.StallAfterTrouble;
import io.gradguard.core.rule.StepView;
import io.gradguard.core.rule.StreakRules;
import io.gradguard.core.rule.Trouble;
import io.gradguard.core.rule.TroubleRule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 *   <li>a norm above the clip threshold (adaptive: the spike threshold; or {@code clip.norm}): clip;
 *   <li>otherwise: step, untouched; every {@code snapshot.every} healthy steps, when the loss has improved on
 *       the last snapshot's, the adapter snapshots.
 * </ol>
 *
 * <p>Above them, the {@link TroubleRule rules}, in order, each one signal: {@code nonfinite.max} non-finite
 * steps in a row; an outlier after {@code skip.max} skipped ones; {@code loss.patience} loss spikes in a
 * row; the loss at {@code rise.ratio} times the run's first loss (from step 1, no statistics needed); the
 * smoothed loss at {@code regress.ratio} times the best it reached;
 * {@code growth.steps} clipped spikes in a row; a collapse after trouble (gradients {@code collapse.drop}
 * times below their early level and a loss that stopped improving). Trouble rolls the run back to the last
 * healthy snapshot. Persistent clipping ({@code fold.rate} of 50 steps) lowers the learning rate instead.
 *
 * <p>A rollback restores the last healthy snapshot, cuts the learning-rate scale and re-warms it (see
 * {@link LrScaleSchedule}); an explosion before any healthy progress since the last rollback cuts twice
 * as deep, and a spike that must be clipped during the re-warm stops it there. When the rollback budget is
 * spent ({@code rollback.max} rollbacks without healthy progress, or a scale below {@code lr.floor}) the
 * guard halts with a diagnosis. {@code clip}
 * uses the in-step rungs 1 and 3 without rollback; {@code monitor} records everything and never acts.
 */
public final class Guard implements AutoCloseable {

    private static final int MAX_NAMED = 5;
    private static final int HEALTHY_BEFORE_SNAPSHOT = 10;
    /** Healthy steps in a row (no clip, no spike) after which the scale they ran at counts as stable. */

    /**
     * A new snapshot needs the loss to have improved on the last one's by this much: a run stuck at (or
     * sliding back to) a bad level keeps the older, better snapshot to roll back to.
     */
    static final double SNAPSHOT_PROGRESS = 0.05;
    /** ... or, once the snapshot is this many intervals old, no more than that much worse (a long plateau). */
    static final int SNAPSHOT_STALE = 10;
    /** Applied steps over which the clip rate is measured for {@code fold.rate}. */
    static final int FOLD_WINDOW = 50;

    private final GuardConfig config;
    private final EventPublisher publisher = new EventPublisher();
    private final ClipThreshold fixedClip;
    private ParameterNormTracker paramTracker;
    private final LrScaleSchedule schedule;
    private final LossRiseRule lossRise;
    private final CollapseRule collapse;
    private final StallAfterTrouble stall;
    /** The ladder's rules above the in-step rungs, in order: the first that finds trouble wins. */
    private final List<TroubleRule> rules;
    private JsonlEventLog ownedLog;
    private boolean begun;

    private SpikeDetector normDetector;
    private SpikeDetector lossDetector;
    private SpikeDetector normAtSnapshot;
    private SpikeDetector lossAtSnapshot;

    private List<String> names = List.of();
    private GuardState state = GuardState.HEALTHY;
    private boolean closed;
    private boolean rollbackPossible = true;
    private final List<String> earlyWarnings = new ArrayList<>();
    private boolean lastUpdateHealthy = true;
    private String pendingInputParam;
    private double[] pendingColumns;

    private long steps;
    private long clipped;
    private long skipped;
    private long nonFinite;
    private long rollbacks;
    private int consecutiveSkips;
    private boolean previousClippedSpike;
    private double snapshotLossLevel = Double.NaN;
    private final boolean[] clipWindow = new boolean[FOLD_WINDOW];
    private int clipWindowFilled;
    private int clipWindowCount;
    private int healthyStreak;
    private int rollbacksSinceProgress;
    private int skipRemaining;
    private long snapshotStep = -1;
    private long lastHealthyStep = -1;
    private double maxHealthyNorm;
    private final StableScales stable = new StableScales();
    private String firstBadParam;
    private boolean eventThisStep;
    private final Diagnoser diagnoser = new Diagnoser();
    private LrRange lrRange;

    /**
     * Creates a guard that logs events through SLF4J and, when {@link GuardConfig#log()} is set, to a
     * JSONL file (opened by {@link #begin}).
     *
     * @param config the configuration
     */
    public Guard(GuardConfig config) {
        this.config = config;
        this.normDetector = new SpikeDetector(config.spikeZ(), config.spikeRatio(), config.spikeAlpha(), config.spikeWarmup());
        this.lossDetector = new SpikeDetector(config.lossZ(), config.lossRatio(), config.spikeAlpha(), config.spikeWarmup());
        this.fixedClip = config.clipNorm().isPresent() ? new FixedClipThreshold(config.clipNorm().getAsDouble()) : null;
        this.paramTracker = new ParameterNormTracker(config.spikeAlpha());
        this.schedule = new LrScaleSchedule(config.rollbackCut(), config.rewarmSteps(), config.rewarmTarget());
        this.lossRise = new LossRiseRule(config.riseRatio());
        this.stall = new StallAfterTrouble(config.policy() == Policy.AUTO ? config.stallSteps() : 0);
        this.collapse = new CollapseRule(config.collapseDrop(), config.collapseQuiet(), lossRise);
        this.rules = List.of(StreakRules.corruptedWeights(), StreakRules.nonFinite(config.nonfiniteMax()), StreakRules.outliers(config.skipMax()),
                StreakRules.lossSpikes(config.lossPatience()), lossRise, new LossRegressionRule(config.regressRatio()),
                StreakRules.growth(config.growthSteps()), collapse);
        publisher.add(new Slf4jEventLog());
        publisher.add(diagnoser);
    }

    /**
     * What this run says so far: where an explosion started, what in the model or the data made it
     * likely, and what learning rate, warm-up and clip threshold to use. Printed (SLF4J, warn) when a run
     * that needed help closes, and carried by the halt exception.
     *
     * @return the diagnosis
     */
    public RunDiagnosis diagnosis() {
        return diagnoser.diagnose();
    }

    /**
     * Hands the diagnosis a learning-rate range test's outcome for this model (for example
     * {@code LrFinder.Result.toLrRange()} in the DJL adapter), so its learning-rate advice quotes it.
     *
     * @param range the outcome, or null
     * @return this guard
     */
    public Guard lrRange(LrRange range) {
        diagnoser.withLrRange(range);
        this.lrRange = range;
        return this;
    }

    /**
     * Adds a listener for steps, layers and events.
     *
     * @param listener the listener; its exceptions never reach training
     * @return this guard
     */
    public Guard addListener(GuardListener listener) {
        publisher.add(listener);
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
        return schedule.scale();
    }

    /** @return the learning-rate scale schedule (history, ceiling) */
    public LrScaleSchedule schedule() {
        return schedule;
    }

    /** @return the step whose pre-update state the last snapshot holds, or -1 */
    public long snapshotStep() {
        return snapshotStep;
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
        if (!active() || now.equals(names)) {
            return;
        }
        List<String> added = now.stream().filter(n -> !names.contains(n)).toList();
        List<String> removed = names.stream().filter(n -> !now.contains(n)).toList();
        String message = "the trainable parameters changed at step " + step + ": " + names.size() + " -> " + now.size()
                + (added.isEmpty() ? "" : "; now trained: " + abbreviate(added))
                + (removed.isEmpty() ? "" : "; no longer trained: " + abbreviate(removed))
                + "; gradient-norm statistics restart and the next healthy step is snapshotted again";
        names = List.copyOf(now);
        paramTracker = new ParameterNormTracker(config.spikeAlpha());
        normDetector = new SpikeDetector(config.spikeZ(), config.spikeRatio(), config.spikeAlpha(), config.spikeWarmup());
        snapshotStep = -1;
        healthyStreak = 0;
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
        if (rollbackPossible) {
            rollbackPossible = false;
            snapshotStep = -1;
            warning(Math.max(steps - 1, 0), "rollback disabled: " + reason);
        }
    }

    private boolean rollbackEnabled() {
        return config.policy() == Policy.AUTO && config.snapshotEvery() > 0 && rollbackPossible;
    }

    /**
     * Starts the run: remembers the parameters and writes the run header.
     *
     * @param info the run
     */
    public void begin(RunInfo info) {
        if (lrRange != null && !info.extra().containsKey("lr_range")) {
            // the range test travels in the log's header, so a replayed log gives the same advice
            Map<String, Object> extra = new LinkedHashMap<>(info.extra());
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("divergence_lr", lrRange.divergenceLr());
            r.put("suggested_lr", lrRange.suggestedLr());
            r.put("min_lr", lrRange.minLr());
            r.put("max_lr", lrRange.maxLr());
            extra.put("lr_range", r);
            info = new RunInfo(info.engine(), info.device(), info.attachment(), info.parameters(), extra);
        }
        this.names = info.parameterNames();
        if (active() && !begun) {
            begun = true;
            if (config.log() != null) {
                // opened only now, so that a guard that never sees a step leaves no file behind
                try {
                    ownedLog = new JsonlEventLog(config.log());
                    publisher.add(ownedLog);
                } catch (java.io.UncheckedIOException e) {
                    // a log that cannot be opened costs the log, not the guard: one warning, and the run goes on
                    org.slf4j.LoggerFactory.getLogger("io.gradguard").warn(
                            "GradGuard: {} ({}); this run is guarded without an event log", e.getMessage(),
                            e.getCause() == null ? "" : e.getCause().toString());
                }
            }
            publisher.run(info, config);
            earlyWarnings.forEach(w -> event(0, EventKind.WARNING, w, null));
            earlyWarnings.clear();
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
        return layersDue(step) || active() && rollbackEnabled() && snapshotDue(step, healthyStreak + 1);
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
        eventThisStep = false;
        double scaleNow = schedule.scale();
        Decision d;
        if (plan.skipAll()) {
            skipRemaining--;
            d = Decision.skip("batch skipped after the rollback (" + skipRemaining + " more)");
        } else {
            d = decide(s, plan, weightNorms);
        }
        switch (d.action()) {
            case CLIP -> clipped++;
            case SKIP -> skipped++;
            default -> { }
        }
        boolean finiteStep = s.gradientsFinite() && !s.lossNonFinite();
        // did the update this step leaves behind come from finite numbers? (a skip leaves the weights as they were)
        lastUpdateHealthy = switch (d.action()) {
            case STEP, CLIP -> finiteStep;
            case ROLLBACK -> true;
            default -> lastUpdateHealthy;
        };
        stable.step(d.action() == Action.STEP && lastHealthyStep == s.step(), scaleNow);
        state = state.to(switch (d.action()) {
            case STEP -> schedule.scale() < 1.0 && rollbacks > 0 ? GuardState.RECOVERING : GuardState.HEALTHY;
            case CLIP -> GuardState.CLIPPING;
            case SKIP -> GuardState.SKIPPING;
            case ROLLBACK -> GuardState.RECOVERING;
            case ABORT -> GuardState.HALTED;
        });
        if (publisher.hasListeners()) {
            publisher.step(new StepRecord(s.step(), s.loss(), s.lossKnown(), s.gradNorm(), d.clipCoef(), schedule.scale(), d.action()));
            if ((eventThisStep || layersDue(s.step())) && s.paramGradNorms() != null && names.size() == s.paramGradNorms().length) {
                double[] w = weightNorms == null ? null : weightNorms.get();
                publisher.layers(new LayerRecord(s.step(), names, s.paramGradNorms(), w != null && w.length == names.size() ? w : null,
                        pendingColumns == null ? null : pendingInputParam, pendingColumns));
            }
        }
        pendingColumns = null;
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
        this.pendingInputParam = param;
        this.pendingColumns = columns == null ? null : columns.clone();
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
     * @param weights the step's weight norms (asked at most once per step), or null
     * @return true when the adapter can measure the weights and one of their norms is not finite
     */
    private static boolean nonFiniteWeights(Supplier<double[]> weights) {
        double[] w = weights == null ? null : weights.get();
        if (w == null) {
            return false;
        }
        for (double x : w) {
            if (!Double.isFinite(x)) {
                return true;
            }
        }
        return false;
    }

    private Decision decide(StepStats s, StepPlan plan, Supplier<double[]> weights) {
        double norm = s.gradNorm();
        boolean finite = s.gradientsFinite() && !s.lossNonFinite();
        StepPlan.Outcome o = plan.predict(norm, s.lossKnown() ? s.loss() : 0.0);
        boolean normSpike = finite && normDetector.isSpike(norm);
        boolean lossSpike = finite && s.lossKnown() && lossDetector.isSpike(s.loss());
        boolean outlier = finite && (norm > plan.skipNormAbove() || s.loss() > plan.skipLossAbove() && norm > plan.skipLossNormAbove());
        boolean outlierAny = finite && normDetector.count() > 0 && (norm > normDetector.typical() * config.skipRatio()
                || s.lossKnown() && lossDetector.count() > 0 && s.loss() > lossDetector.typical() * config.skipRatio()
                        && norm > normDetector.typical() * config.spikeRatio());
        StepView view = new StepView(s.step(), s.loss(), s.lossKnown(), norm, finite, o.action(), o.clipCoef(),
                config.policy() == Policy.AUTO && outlierAny, normSpike, lossSpike, consecutiveSkips, schedule.scale(),
                !finite && lastUpdateHealthy && nonFiniteWeights(weights));
        String reason = observe(s, view, o, outlier);
        if (config.policy().acts()) {
            for (TroubleRule rule : rules) {
                Trouble t = rule.check(view);
                if (t == null) {
                    continue;
                }
                Decision r = answer(s, t);
                if (r != null) {
                    return r;
                }
            }
        }
        return settle(s, view, o, reason, weights);
    }

    /**
     * Publishes what the step shows (non-finite values, spikes, outliers) and keeps the counters.
     *
     * @return why the step is skipped, when it is
     */
    private String observe(StepStats s, StepView v, StepPlan.Outcome o, boolean skippedOutlier) {
        double norm = s.gradNorm();
        if (!v.finite()) {
            nonFinite++;
            healthyStreak = 0;
            previousClippedSpike = false;
            if (!v.weightsCorrupted()) {
                stable.unstable(schedule.scale());
            }
            String where = nonFiniteParams(s.paramGradNorms());
            String param = firstNonFiniteParam(s.paramGradNorms());
            noteBad(param);
            String what = s.lossNonFinite()
                    ? "loss is " + fmt(s.loss()) + (s.gradientsFinite() ? "" : ", gradient norm is " + fmt(norm))
                    : "gradient norm is " + fmt(norm);
            if (!where.isEmpty()) {
                what += " (non-finite gradients in " + where + ")";
            }
            event(s.step(), EventKind.NONFINITE, what + (config.policy().acts() ? "" : "; monitor policy: not acted on"), param);
            return what;
        }
        if (v.lossSpike()) {
            event(s.step(), EventKind.LOSS_SPIKE, "loss " + fmt(s.loss()) + " is " + fmt(lossDetector.ratio(s.loss()))
                    + "x its typical value " + fmt(lossDetector.typical()), null);
        }
        String why = null;
        if (skippedOutlier) {
            healthyStreak = 0;
            noteBad(mostGrownParam(s));
            why = outlierWhy(s);
            if (consecutiveSkips < config.skipMax()) {
                // from skip.max on, the outlier rule rolls back instead
                consecutiveSkips++;
                event(s.step(), EventKind.SPIKE, why + "; batch skipped", mostGrownParam(s));
            }
        } else if (v.clippedSpike()) {
            if (!previousClippedSpike) {
                event(s.step(), EventKind.SPIKE, "gradient norm " + fmt(norm) + " (" + fmt(normDetector.ratio(norm))
                        + "x typical) above the clip threshold " + fmt(clipThreshold()) + "; clipped by " + fmt(o.clipCoef()),
                        mostGrownParam(s));
            }
            noteBad(mostGrownParam(s));
        } else if (!config.policy().acts() && v.normSpike()) {
            event(s.step(), EventKind.SPIKE, "gradient norm " + fmt(norm) + " is " + fmt(normDetector.ratio(norm))
                    + "x typical (threshold " + fmt(clipThreshold()) + "); monitor policy: not clipped", mostGrownParam(s));
        }
        previousClippedSpike = skippedOutlier ? previousClippedSpike : v.clippedSpike();
        return why;
    }

    private String outlierWhy(StepStats s) {
        double norm = s.gradNorm();
        boolean lossOutlier = s.lossKnown() && lossDetector.count() > 0 && s.loss() > lossDetector.typical() * config.skipRatio();
        return "outlier batch: gradient norm " + fmt(norm) + " is " + fmt(normDetector.ratio(norm)) + "x typical"
                + (lossOutlier ? ", loss " + fmt(lossDetector.ratio(s.loss())) + "x typical" : "");
    }

    /** A rule found trouble: roll back, or halt when the parameters are lost and no rollback is possible. */
    private Decision answer(StepStats s, Trouble t) {
        noteBad(mostGrownParam(s));
        // the rate is blamed unless the rule says otherwise, and only once: a second rollback before any healthy
        // progress cuts as usual
        boolean cut = t.cutsRate() || rollbacksSinceProgress > 0;
        if (cut) {
            stable.unstable(schedule.scale());
        }
        String why = t.why();
        if (t.kind() == EventKind.GROWTH) {
            why += " (now " + fmt(s.gradNorm()) + ", typical " + fmt(normDetector.typical()) + ")";
        }
        if (t.kind() != null) {
            event(s.step(), t.kind(), why, mostGrownParam(s));
        }
        if (t.rule().equals("outlier_streak")) {
            why += " (" + outlierWhy(s) + ")";
        }
        Decision r = rollbackOrNull(s.step(), why, cut);
        if (r == null && t.fatalWithoutRollback()) {
            return abort(s.step(), why.replace("consecutive non-finite steps", "consecutive steps had a non-finite loss"
                    + " or gradient") + ", so the parameters are no longer usable");
        }
        return r;
    }

    /** No rule called for a rollback: the in-step action stands; keep the statistics and maybe snapshot. */
    private Decision settle(StepStats s, StepView v, StepPlan.Outcome o, String reason, Supplier<double[]> weights) {
        if (o.action() == Action.SKIP) {
            return Decision.skip(reason);
        }
        if (!v.finite()) {
            return Decision.step();
        }
        consecutiveSkips = 0;
        double norm = s.gradNorm();
        Decision d = o.action() == Action.CLIP
                ? Decision.clip(o.clipCoef(), "norm " + fmt(norm) + " > threshold " + fmt(clipThreshold()))
                : Decision.step();
        if (v.clippedSpike() || v.lossSpike()) {
            stable.unstable(schedule.scale());
        }
        if (v.clippedSpike()) {
            normDetector.updateClipped(norm * d.clipCoef());
            // the re-warm stops at a scale that needed its spikes clipped
            schedule.unstable(s.step());
        } else {
            normDetector.update(norm * d.clipCoef());
        }
        foldClipping(s.step(), d.action() == Action.CLIP);
        if (s.lossKnown() && stall.observe(s.loss(), schedule.scale())) {
            double before = schedule.scale();
            double after = schedule.settle(s.step(), StallAfterTrouble.FACTOR);
            String why = "the mean loss stopped improving since the learning rate was cut ("
                    + StallAfterTrouble.PATIENCE + " blocks of " + config.stallSteps() + " steps not below "
                    + fmt(stall.best()) + " by " + Math.round(StallAfterTrouble.MIN_GAIN * 100) + "%): learning-rate scale "
                    + fmt(before) + " -> " + fmt(after);
            event(s.step(), EventKind.LR_CUT, why, null, Map.of("lr_scale_before", before, "lr_scale", after));
        }
        if (s.lossKnown()) {
            if (v.lossSpike()) {
                lossDetector.updateClipped(lossDetector.threshold());
            } else {
                lossDetector.update(s.loss());
            }
        }
        boolean healthy = d.action() == Action.STEP && !v.normSpike() && !v.lossSpike();
        if (!healthy) {
            healthyStreak = 0;
            return d;
        }
        healthyStreak++;
        paramTracker.update(s.paramGradNorms());
        lastHealthyStep = s.step();
        maxHealthyNorm = Math.max(maxHealthyNorm, norm);
        schedule.healthyStep(s.step());
        if (o.snapshot()) {
            if (nonFiniteWeights(weights)) {
                // gradients computed before something wrote into the weights look healthy; a snapshot of the
                // corrupted weights would make every rollback restore them, so the last good one is kept
                warning(s.step(), "no snapshot at step " + s.step() + ": the parameters are non-finite although the"
                        + " step's gradients are finite (written into between backward and the update?); the snapshot"
                        + " before step " + snapshotStep + " is kept");
                return d;
            }
            takeSnapshot(s.step(), s.lossKnown() ? lossDetector.typical() : Double.NaN);
            return Decision.stepAndSnapshot();
        }
        return d;
    }

    /**
     * Persistent clipping is folded into the learning rate: when {@code fold.rate} of the last
     * {@value #FOLD_WINDOW} applied steps were clipped, the scale is cut by {@code rollback.cut} (no rollback:
     * the run is not broken, only too fast), the old scale becomes a ceiling, and the count starts again.
     */
    private void foldClipping(long step, boolean clippedNow) {
        if (config.policy() != Policy.AUTO || config.foldRate() <= 0) {
            return;
        }
        int at = (int) (clipWindowFilled % FOLD_WINDOW);
        if (clipWindowFilled >= FOLD_WINDOW && clipWindow[at]) {
            clipWindowCount--;
        }
        clipWindow[at] = clippedNow;
        clipWindowCount += clippedNow ? 1 : 0;
        clipWindowFilled++;
        if (clipWindowFilled >= FOLD_WINDOW && clipWindowCount >= config.foldRate() * FOLD_WINDOW
                && schedule.scale() * config.rollbackCut() >= config.lrFloor()) {
            double before = schedule.scale();
            stable.unstable(before);
            double after = schedule.lower(step, config.rollbackCut());
            stall.arm();
            String why = clipWindowCount + " of the last " + FOLD_WINDOW + " steps were clipped: learning-rate scale "
                    + fmt(before) + " -> " + fmt(after) + " instead of clipping on";
            resetClipWindow();
            event(step, EventKind.LR_CUT, why, null, Map.of("lr_scale_before", before, "lr_scale", after));
        }
    }

    private void resetClipWindow() {
        java.util.Arrays.fill(clipWindow, false);
        clipWindowFilled = 0;
        clipWindowCount = 0;
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
        boolean acts = config.policy().acts();
        boolean auto = config.policy() == Policy.AUTO;
        boolean outliersSkip = auto && (consecutiveSkips < config.skipMax() || (rollbackEnabled() && snapshotStep >= 0));
        double normTypical = normDetector.count() > 0 ? normDetector.typical() : Double.NaN;
        double lossTypical = lossDetector.count() > 0 ? lossDetector.typical() : Double.NaN;
        double skipNorm = outliersSkip && normDetector.count() > 0 ? normTypical * config.skipRatio() : inf;
        double skipLoss = outliersSkip && lossDetector.count() > 0 && normDetector.count() > 0
                ? lossTypical * config.skipRatio() : inf;
        double skipLossNorm = outliersSkip && normDetector.count() > 0 ? normTypical * config.spikeRatio() : inf;
        double clip = acts ? clipThreshold() : inf;
        // decide() counts this step into the streak before it asks; a loss above where the run started is
        // trouble, never a state to snapshot
        boolean snapshot = snapshotDue(step, healthyStreak + 1) && !(auto && collapse.suspected());
        double lossAbove = Math.min(lossDetector.threshold(), auto ? lossRise.threshold() : inf);
        return new StepPlan(step, clip, skipNorm, skipLoss, skipLossNorm, normDetector.threshold(), lossAbove,
                acts, acts && skipRemaining > 0, snapshot, schedule.scale());
    }

    /**
     * The clip threshold: {@code clip.norm} when fixed; otherwise the spike threshold, tightened after the
     * first rollback to {@code recovery.clip} times the typical norm.
     */
    private double clipThreshold() {
        if (fixedClip != null) {
            return fixedClip.threshold();
        }
        double t = normDetector.threshold();
        if (config.recoveryClip() > 0 && rollbacks > 0 && normDetector.count() > 0) {
            t = Math.min(t, normDetector.typical() * config.recoveryClip());
        }
        return t;
    }

    /** The parameter whose gradient grew most over its typical norm; computed only when an event needs it. */
    private String mostGrownParam(StepStats s) {
        int grown = paramTracker.mostGrown(s.paramGradNorms());
        return grown >= 0 && grown < names.size() ? names.get(grown) : null;
    }

    /**
     * Whether a healthy step at {@code step}, ending a streak of {@code streak} healthy steps, is snapshotted:
     * the first healthy step always; later ones every {@code snapshot.every} steps, after a short healthy
     * streak, and only when the loss has improved on the last snapshot's (or, on a long plateau, is no
     * worse): a run that slid back or collapsed keeps the older, better state to return to.
     */
    private boolean snapshotDue(long step, int streak) {
        if (!rollbackEnabled()) {
            return false;
        }
        if (snapshotStep < 0) {
            return true;
        }
        boolean progress = Double.isNaN(snapshotLossLevel) || lossDetector.count() == 0
                || lossDetector.typical() <= snapshotLossLevel * (1 - SNAPSHOT_PROGRESS)
                || step - snapshotStep >= SNAPSHOT_STALE * config.snapshotEvery()
                        && lossDetector.typical() <= snapshotLossLevel * (1 + SNAPSHOT_PROGRESS);
        return progress && streak >= Math.min(HEALTHY_BEFORE_SNAPSHOT, config.snapshotEvery())
                && step - snapshotStep >= config.snapshotEvery();
    }

    private void takeSnapshot(long step, double lossLevel) {
        if (rollbacksSinceProgress > 0 && snapshotStep >= 0) {
            // healthy progress since the last rollback: the budget starts again
            rollbacksSinceProgress = 0;
        }
        snapshotLossLevel = lossLevel;
        snapshotStep = step;
        normAtSnapshot = normDetector.copy();
        lossAtSnapshot = lossDetector.copy();
        publisher.event(new GuardEvent(step, EventKind.SNAPSHOT,
                "healthy snapshot of the parameters and optimizer state before step " + step
                        + " (learning-rate scale " + fmt(schedule.scale()) + ")", null,
                Map.of("lr_scale", schedule.scale())));
    }

    private void noteBad(String param) {
        if (firstBadParam == null) {
            firstBadParam = param;
        }
    }

    /** A rollback decision when one is possible and within budget; an abort when the budget is spent; else null. */
    private Decision rollbackOrNull(long step, String why, boolean cut) {
        if (!rollbackEnabled() || snapshotStep < 0) {
            return null;
        }
        if (rollbacksSinceProgress >= config.rollbackMax()) {
            return abort(step, why + ", after " + rollbacksSinceProgress
                    + " rollbacks without healthy progress between them (rollback.max=" + config.rollbackMax() + ")");
        }
        boolean deeper = rollbacksSinceProgress > 0;
        if (cut && schedule.wouldCutTo(deeper) < config.lrFloor()) {
            return abort(step, why + ", and another rollback would cut the learning-rate scale to "
                    + fmt(schedule.wouldCutTo(deeper)) + ", below lr.floor=" + config.lrFloor());
        }
        double before = schedule.scale();
        double after = cut ? schedule.cut(step, deeper) : before;
        if (cut) {
            stall.arm();
        }
        rollbacks++;
        rollbacksSinceProgress++;
        normDetector = normAtSnapshot.copy();
        lossDetector = lossAtSnapshot.copy();
        consecutiveSkips = 0;
        previousClippedSpike = false;
        rules.forEach(TroubleRule::rolledBack);
        resetClipWindow();
        healthyStreak = 0;
        skipRemaining = config.rollbackSkip();
        String detail = why + ": rolled back from step " + step + " to the snapshot before step " + snapshotStep
                + (cut ? "; learning-rate scale " + fmt(before) + " -> " + fmt(after) + " (re-warming to "
                        + fmt(schedule.target()) + " over " + config.rewarmSteps() + " healthy steps)"
                        : "; learning-rate scale kept at " + fmt(before) + " (not the learning rate's doing)")
                + (skipRemaining > 0 ? "; skipping the next " + skipRemaining + " batches" : "");
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("from_step", step);
        data.put("to_step", snapshotStep);
        data.put("lr_scale_before", before);
        data.put("lr_scale", after);
        data.put("skip_batches", skipRemaining);
        data.put("rollbacks", rollbacks);
        event(step, EventKind.ROLLBACK, detail, firstBadParam, data);
        return Decision.rollback(after, detail);
    }

    private Decision abort(long step, String why) {
        // the advice comes from the diagnosis rules (structure, data, learning rate...), so the halt
        // message and the diagnosis never disagree
        StringBuilder advice = new StringBuilder();
        for (Finding f : diagnoser.diagnose().findings()) {
            if (!f.advice().isEmpty() && !f.rule().equals("clip")) {
                advice.append(advice.length() > 0 ? " " : "").append(f.rule().replace('_', ' ')).append(": ").append(f.advice());
            }
        }
        String diagnosis = Diagnosis.halt(step, why, lastHealthyStep, normDetector.typical(), maxHealthyNorm,
                firstBadParam, schedule, stable.largest(), advice.toString());
        event(step, EventKind.ABORT, diagnosis, firstBadParam, Map.of("rollbacks", rollbacks, "lr_scale", schedule.scale()));
        return Decision.abort(diagnosis);
    }

    /**
     * Publishes a warning event: something that weakens the guard or that the user should know, not an
     * explosion.
     *
     * @param step the step it concerns
     * @param message the sentence
     */
    public void warning(long step, String message) {
        if (!active()) {
            return;
        }
        if (!begun) {
            // before the run header (an adapter finding out, while it prepares, what it cannot do): held until
            // begin() has opened the log, so that the warning is in it
            earlyWarnings.add(message);
            return;
        }
        event(step, EventKind.WARNING, message, null);
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
            event(step, EventKind.WARNING, "step " + step + ": the optimizer's update threw (" + error
                    + "); that step was not applied", null, Map.of("failed_step", step));
        }
    }

    private void event(long step, EventKind kind, String detail, String param) {
        eventThisStep = true;
        publisher.event(new GuardEvent(step, kind, detail, param));
    }

    private void event(long step, EventKind kind, String detail, String param, Map<String, Object> data) {
        eventThisStep = true;
        publisher.event(new GuardEvent(step, kind, detail, param, data));
    }

    private String nonFiniteParams(double[] norms) {
        if (norms == null || norms.length != names.size()) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        int count = 0;
        for (int i = 0; i < norms.length; i++) {
            if (!Double.isFinite(norms[i])) {
                if (count < MAX_NAMED) {
                    sb.append(count > 0 ? ", " : "").append(names.get(i));
                }
                count++;
            }
        }
        if (count > MAX_NAMED) {
            sb.append(" and ").append(count - MAX_NAMED).append(" more");
        }
        return count == 0 ? "" : count + " parameter" + (count > 1 ? "s: " : ": ") + sb;
    }

    private String firstNonFiniteParam(double[] norms) {
        if (norms == null || norms.length != names.size()) {
            return null;
        }
        // Backpropagation runs from the output towards the input: the last parameter in model order
        // that went non-finite is the first one the backward pass reached.
        for (int i = norms.length - 1; i >= 0; i--) {
            if (!Double.isFinite(norms[i])) {
                return names.get(i);
            }
        }
        return null;
    }

    /** @return the totals so far */
    public RunSummary summary() {
        return new RunSummary(steps, clipped, skipped, nonFinite, rollbacks, schedule.scale(), state == GuardState.HALTED);
    }

    /** Publishes the totals and closes the event log. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (begun) {
            RunSummary total = summary();
            publisher.end(total);
            if (total.intervened() || total.nonFinite() > 0) {
                org.slf4j.LoggerFactory.getLogger("io.gradguard").warn("{}", diagnosis().text());
            }
        }
        if (ownedLog != null) {
            ownedLog.close();
        }
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
}
