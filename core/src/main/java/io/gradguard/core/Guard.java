package io.gradguard.core;

import io.gradguard.core.clip.AdaptiveClipThreshold;
import io.gradguard.core.clip.ClipThreshold;
import io.gradguard.core.clip.FixedClipThreshold;
import io.gradguard.core.clip.GlobalNormClip;
import io.gradguard.core.detect.ParameterNormTracker;
import io.gradguard.core.detect.SpikeDetector;
import io.gradguard.core.event.EventKind;
import io.gradguard.core.event.EventPublisher;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.event.GuardListener;
import io.gradguard.core.event.JsonlEventLog;
import io.gradguard.core.event.LayerRecord;
import io.gradguard.core.event.RunSummary;
import io.gradguard.core.event.Slf4jEventLog;
import io.gradguard.core.event.StepRecord;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The engine-agnostic brain: takes the numbers of one step ({@link StepStats}) and returns what to do
 * ({@link Decision}). It never sees a tensor. Not thread-safe: one guard per training run.
 *
 * <p>The {@code auto} ladder, first match wins:
 *
 * <ol>
 *   <li>non-finite loss or gradient: skip the step; more than {@code nonfinite.max} in a row: halt;
 *   <li>a norm or loss more than {@code skip.ratio} times its typical value: skip the batch as an
 *       outlier (at most {@code skip.max} in a row, then clip instead);
 *   <li>a norm above the clip threshold (adaptive: the spike threshold; or {@code clip.norm}): clip;
 *   <li>otherwise: step, untouched.
 * </ol>
 *
 * <p>{@code clip} uses rungs 1 and 3 only, {@code monitor} records everything and never acts.
 */
public final class Guard implements AutoCloseable {

    private static final int MAX_NAMED = 5;

    private final GuardConfig config;
    private final EventPublisher publisher = new EventPublisher();
    private final SpikeDetector normDetector;
    private final SpikeDetector lossDetector;
    private final ClipThreshold clipThreshold;
    private final ParameterNormTracker paramTracker;
    private final JsonlEventLog ownedLog;

    private RunInfo run;
    private List<String> names = List.of();
    private GuardState state = GuardState.HEALTHY;
    private boolean closed;

    private long steps;
    private long clipped;
    private long skipped;
    private long nonFinite;
    private int consecutiveNonFinite;
    private int consecutiveSkips;
    private int consecutiveClips;
    private long lastHealthyStep = -1;
    private double maxHealthyNorm;
    private String firstBadParam;
    private boolean eventThisStep;

    /**
     * Creates a guard that logs events through SLF4J and, when {@link GuardConfig#log()} is set, to a
     * JSONL file.
     *
     * @param config the configuration
     */
    public Guard(GuardConfig config) {
        this.config = config;
        this.normDetector = new SpikeDetector(config.spikeZ(), config.spikeRatio(), config.spikeAlpha(), config.spikeWarmup());
        this.lossDetector = new SpikeDetector(config.lossZ(), config.lossRatio(), config.spikeAlpha(), config.spikeWarmup());
        this.clipThreshold = config.clipNorm().isPresent()
                ? new FixedClipThreshold(config.clipNorm().getAsDouble())
                : new AdaptiveClipThreshold(normDetector);
        this.paramTracker = new ParameterNormTracker(config.spikeAlpha());
        publisher.add(new Slf4jEventLog());
        this.ownedLog = config.log() != null && config.policy() != Policy.OFF ? new JsonlEventLog(config.log()) : null;
        if (ownedLog != null) {
            publisher.add(ownedLog);
        }
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

    /** @return the learning-rate scale the adapter should apply (1 until rollback arrives) */
    public double lrScale() {
        return 1.0;
    }

    /** @return the run description given to {@link #begin}, or null before */
    public RunInfo runInfo() {
        return run;
    }

    /**
     * Starts the run: remembers the parameters and writes the run header.
     *
     * @param info the run
     */
    public void begin(RunInfo info) {
        this.run = info;
        this.names = info.parameterNames();
        if (active()) {
            publisher.run(info, config);
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
     * Decides what to do with one step.
     *
     * @param s the step's numbers
     * @param weightNorms supplies the per-parameter weight norms when a layers record is written
     *     (periodically and at events); may return null
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
        steps++;
        eventThisStep = false;
        Decision d = s.gradientsFinite() && !s.lossNonFinite() ? decideFinite(s) : decideNonFinite(s);
        state = state.to(switch (d.action()) {
            case STEP -> GuardState.HEALTHY;
            case CLIP -> GuardState.CLIPPING;
            case SKIP -> GuardState.SKIPPING;
            case ABORT, ROLLBACK -> GuardState.HALTED;
        });
        if (d.action() == Action.CLIP) {
            clipped++;
        } else if (d.action() == Action.SKIP) {
            skipped++;
        }
        if (publisher.hasListeners()) {
            publisher.step(new StepRecord(s.step(), s.loss(), s.lossKnown(), s.gradNorm(), d.clipCoef(), lrScale(), d.action()));
            if ((eventThisStep || layersDue(s.step())) && s.paramGradNorms() != null && names.size() == s.paramGradNorms().length) {
                double[] w = weightNorms == null ? null : weightNorms.get();
                publisher.layers(new LayerRecord(s.step(), names, s.paramGradNorms(), w != null && w.length == names.size() ? w : null));
            }
        }
        return d;
    }

    private Decision decideNonFinite(StepStats s) {
        nonFinite++;
        consecutiveNonFinite++;
        consecutiveClips = 0;
        String where = nonFiniteParams(s.paramGradNorms());
        String param = firstNonFiniteParam(s.paramGradNorms());
        if (firstBadParam == null) {
            firstBadParam = param;
        }
        String what = s.lossNonFinite()
                ? "loss is " + fmt(s.loss()) + (s.gradientsFinite() ? "" : ", gradient norm is " + fmt(s.gradNorm()))
                : "gradient norm is " + fmt(s.gradNorm());
        if (!where.isEmpty()) {
            what += " (non-finite gradients in " + where + ")";
        }
        Decision d;
        if (!config.policy().acts()) {
            d = Decision.step();
            event(s.step(), EventKind.NONFINITE, what + "; monitor policy: not acted on", param);
        } else if (consecutiveNonFinite > config.nonfiniteMax()) {
            event(s.step(), EventKind.NONFINITE, what, param);
            String diagnosis = Diagnosis.halt(s.step(), consecutiveNonFinite, lastHealthyStep,
                    normDetector.typical(), maxHealthyNorm, firstBadParam);
            event(s.step(), EventKind.ABORT, diagnosis, firstBadParam);
            d = Decision.abort(diagnosis);
        } else {
            d = Decision.skip(what);
            event(s.step(), EventKind.NONFINITE, what + "; step skipped (" + consecutiveNonFinite + " in a row)", param);
        }
        return d;
    }

    private Decision decideFinite(StepStats s) {
        consecutiveNonFinite = 0;
        double norm = s.gradNorm();
        boolean acts = config.policy().acts();
        boolean normSpike = normDetector.isSpike(norm);
        boolean normOutlier = normDetector.ready() && norm > normDetector.typical() * config.skipRatio();
        boolean lossSpike = s.lossKnown() && lossDetector.isSpike(s.loss());
        boolean lossOutlier = s.lossKnown() && lossDetector.ready() && s.loss() > lossDetector.typical() * config.skipRatio();
        int grown = paramTracker.mostGrown(s.paramGradNorms());
        String param = grown >= 0 && grown < names.size() ? names.get(grown) : null;
        if (lossSpike) {
            event(s.step(), EventKind.LOSS_SPIKE, "loss " + fmt(s.loss()) + " is " + fmt(lossDetector.ratio(s.loss()))
                    + "x its typical value " + fmt(lossDetector.typical()), null);
        }
        Decision d;
        double threshold = clipThreshold.threshold();
        if (config.policy() == Policy.AUTO && (normOutlier || lossOutlier) && consecutiveSkips < config.skipMax()) {
            consecutiveSkips++;
            String why = "outlier batch: gradient norm " + fmt(norm) + " is " + fmt(normDetector.ratio(norm))
                    + "x typical" + (lossOutlier ? ", loss " + fmt(lossDetector.ratio(s.loss())) + "x typical" : "");
            d = Decision.skip(why);
            event(s.step(), EventKind.SPIKE, why + "; batch skipped", param);
            if (firstBadParam == null) {
                firstBadParam = param;
            }
        } else if (acts && norm > threshold) {
            double coef = GlobalNormClip.coefficient(norm, threshold);
            d = Decision.clip(coef, "norm " + fmt(norm) + " > threshold " + fmt(threshold));
            if (consecutiveClips == 0) {
                event(s.step(), EventKind.SPIKE, "gradient norm " + fmt(norm) + " (" + fmt(normDetector.ratio(norm))
                        + "x typical) above the clip threshold " + fmt(threshold) + "; clipped by " + fmt(coef), param);
            }
            consecutiveClips++;
            if (consecutiveClips == config.growthSteps()) {
                event(s.step(), EventKind.GROWTH, consecutiveClips + " consecutive steps clipped: the gradient norm keeps"
                        + " growing (now " + fmt(norm) + ", typical " + fmt(normDetector.typical())
                        + "); the learning rate is probably too high", param);
            }
            if (firstBadParam == null && normSpike) {
                firstBadParam = param;
            }
        } else {
            d = Decision.step();
            if (!acts && normSpike) {
                event(s.step(), EventKind.SPIKE, "gradient norm " + fmt(norm) + " is " + fmt(normDetector.ratio(norm))
                        + "x typical (threshold " + fmt(threshold) + "); monitor policy: not clipped", param);
            }
        }
        if (d.action() != Action.SKIP) {
            consecutiveSkips = 0;
            normDetector.update(norm * d.clipCoef());
            if (s.lossKnown()) {
                lossDetector.update(lossSpike ? Math.min(s.loss(), lossDetector.threshold()) : s.loss());
            }
        }
        if (d.action() != Action.CLIP) {
            consecutiveClips = 0;
        }
        if (d.action() == Action.STEP && !normSpike) {
            paramTracker.update(s.paramGradNorms());
            lastHealthyStep = s.step();
            maxHealthyNorm = Math.max(maxHealthyNorm, norm);
        }
        return d;
    }

    /**
     * Publishes a warning event: something that weakens the guard or that the user should know, not an
     * explosion. Shown once per call; callers warn once per cause.
     *
     * @param step the step it concerns
     * @param message the sentence
     */
    public void warning(long step, String message) {
        if (active()) {
            event(step, EventKind.WARNING, message, null);
        }
    }

    private void event(long step, EventKind kind, String detail, String param) {
        eventThisStep = true;
        publisher.event(new GuardEvent(step, kind, detail, param));
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
        return new RunSummary(steps, clipped, skipped, nonFinite, state == GuardState.HALTED);
    }

    /** Publishes the totals and closes the event log. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (active()) {
            publisher.end(summary());
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
