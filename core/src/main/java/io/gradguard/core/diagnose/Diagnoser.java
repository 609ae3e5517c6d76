package io.gradguard.core.diagnose;

import io.gradguard.core.Action;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.RunInfo;
import io.gradguard.core.event.EventKind;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.event.GuardListener;
import io.gradguard.core.event.LayerRecord;
import io.gradguard.core.event.RunSummary;
import io.gradguard.core.event.StepRecord;
import io.gradguard.core.internal.Numbers;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns what a guard saw into advice: where the explosion started, what in the model's structure made it
 * likely (depth, recurrence), whether single batches were to blame, and what learning rate, warm-up and
 * clip threshold to use. Listens to a live guard (every guard has one; see {@code Guard.diagnosis()}) or
 * replays a recorded log ({@code io.gradguard.log.RunLog}, in gradguard-log). Memory is bounded whatever the
 * run's length: healthy norms go into a log-spaced histogram, and only a few layer records and events are kept.
 */
public final class Diagnoser implements GuardListener {

    /** Parameter names of recurrent (hidden-to-hidden) weights, as DJL, PyTorch and Keras name them. */
    static final Pattern RECURRENT = Pattern.compile("(?i)(h2h|_hh|hh_|recurrent|hidden_to_hidden|whh)");
    /** Parameter names of weight matrices (not biases, not norms' scales). */
    static final Pattern WEIGHT = Pattern.compile("(?i)(weight|kernel)");


    /** Healthy steps in a row at one learning-rate scale that count as "stable at that scale". */
    static final int STABLE_STREAK = StableScales.WINDOW;
    /** A layer-to-layer trend this strong (decades from the input side to the output side) is a depth effect. */
    static final double DEPTH_DECADES = 1.0;
    /** ... and at least this share of neighbouring layers must follow it. */
    static final double DEPTH_MONOTONE = 0.75;
    /** Parameter names of biases (their gradient is the back-propagated signal itself, summed over the batch). */
    static final Pattern BIAS = Pattern.compile("(?i)bias");
    /** Fewest weight matrices for the depth rule. */
    static final int DEPTH_MIN_LAYERS = 6;
    /** A learning-rate scale this low that still sees spikes means the learning rate is not the cause. */
    static final double LOW_SCALE = 0.25;
    /** Spikes at a low learning-rate scale, in a run that otherwise trains, that make the loss rule fire. */
    static final int PERSISTENT_SPIKES = 10;
    private static final int MAX_EVENTS = 200;
    private static final int MAX_NAMED = 8;
    private static final Set<EventKind> TROUBLE = EnumSet.of(EventKind.NONFINITE, EventKind.SPIKE,
            EventKind.LOSS_SPIKE, EventKind.GROWTH, EventKind.RISE, EventKind.COLLAPSE, EventKind.LR_CUT, EventKind.ROLLBACK, EventKind.ABORT);

    private List<String> names = List.of();
    private long steps;
    private long clipped;
    private long skipped;
    private long rollbacks;
    private long nonFinite;
    private boolean halted;
    private final LogHistogram healthy = new LogHistogram();
    private GuardEvent first;
    private LayerRecord lastLayers;
    private LayerRecord firstLayers;
    private LayerRecord inputLayers;
    /** A column at this many times the median column is an input on a larger scale. */
    static final double INPUT_RATIO = 4.0;
    /** Fewer input columns than this say nothing about scale. */
    static final int INPUT_MIN_COLUMNS = 4;
    private LayerRecord lastAny;
    private int spikesAtLowScale;
    private double lowestSpikeScale = 1.0;
    private LayerRecord originLayers;
    private final List<GuardEvent> events = new ArrayList<>();
    private long lastStep = -1;
    private boolean lastHealthy;
    private long spikeStep = -1;
    private boolean spikeAfterHealthy;
    private String spikeParam;
    private final List<Long> oneOff = new ArrayList<>();
    private final List<String> oneOffParams = new ArrayList<>();
    private int gradSpikes;
    private int stepSpikes;
    private int episodes;
    private long lastSpikeStep = -10;
    private int lossSpikes;
    private final StableScales stable = new StableScales();
    private boolean troubleThisStep;
    private double lastScale = 1.0;
    private LrRange lrRange;

    /** A diagnoser with nothing seen yet. */
    public Diagnoser() {}

    /**
     * Adds a learning-rate range test's outcome to the learning-rate advice.
     *
     * @param range the test's outcome, or null
     * @return this
     */
    public Diagnoser withLrRange(LrRange range) {
        this.lrRange = range;
        return this;
    }

    @Override
    public void onRun(RunInfo info, GuardConfig config) {
        names = info.parameterNames();
        if (lrRange == null && info.extra().get("lr_range") instanceof java.util.Map<?, ?> m) {
            lrRange = new LrRange(num(m.get("divergence_lr")), num(m.get("suggested_lr")), num(m.get("min_lr")),
                    num(m.get("max_lr")));
        }
    }

    /**
     * @param o a header value: a number, or one of the strings the log writer uses for non-finite numbers
     * @return the number, or NaN when {@code o} is null or anything else
     */
    private static double num(Object o) {
        if (o instanceof Number n) {
            return n.doubleValue();
        }
        if (o instanceof String s) {
            return switch (s) {
                case "Infinity" -> Double.POSITIVE_INFINITY;
                case "-Infinity" -> Double.NEGATIVE_INFINITY;
                default -> Double.NaN;
            };
        }
        return Double.NaN;
    }

    @Override
    public void onStep(StepRecord r) {
        steps++;
        boolean finite = Double.isFinite(r.gradNorm()) && (!r.lossKnown() || Double.isFinite(r.loss()));
        if (!finite) {
            nonFinite++;
        }
        switch (r.action()) {
            case CLIP -> clipped++;
            case SKIP -> skipped++;
            case ROLLBACK -> rollbacks++;
            case ABORT -> halted = true;
            default -> { }
        }
        boolean isHealthy = r.action() == Action.STEP && finite;
        if (isHealthy) {
            healthy.add(r.gradNorm());
        }
        stable.step(isHealthy && !troubleThisStep, r.lrScale());
        troubleThisStep = false;
        if (spikeStep >= 0 && r.step() == spikeStep + 1) {
            if (isHealthy && spikeAfterHealthy) {
                oneOff.add(spikeStep);
                oneOffParams.add(spikeParam);
            }
            spikeStep = -1;
        }
        lastStep = r.step();
        lastHealthy = isHealthy;
        lastScale = r.lrScale();
    }

    @Override
    public void onLayers(LayerRecord r) {
        lastAny = r;
        if (inputLayers == null && r.inputColumns() != null && r.inputColumns().length >= INPUT_MIN_COLUMNS
                && java.util.Arrays.stream(r.inputColumns()).allMatch(Double::isFinite)) {
            inputLayers = r;
        }
        if (firstLayers == null) {
            firstLayers = r;
        }
        boolean finite = java.util.Arrays.stream(r.gradNorms()).allMatch(Double::isFinite);
        if (finite && (first == null || r.step() <= first.step())) {
            // the last clean picture of the gradients before (or at) the first trouble
            lastLayers = r;
            if (first != null) {
                originLayers = r;
            }
        }
    }

    @Override
    public void onEvent(GuardEvent e) {
        if (events.size() < MAX_EVENTS) {
            events.add(e);
        }
        if (first == null && TROUBLE.contains(e.kind())) {
            first = e;
            originLayers = lastLayers;
        }
        if (TROUBLE.contains(e.kind()) && e.kind() != EventKind.ABORT) {
            // instability at the scale in force: no scale at or above it counts as stable
            troubleThisStep = true;
            stable.unstable(e.data().get("lr_scale_before") instanceof Number b ? b.doubleValue() : lastScale);
        }
        if (TROUBLE.contains(e.kind()) && e.kind() != EventKind.ROLLBACK && e.kind() != EventKind.ABORT
                && lastScale <= LOW_SCALE) {
            spikesAtLowScale++;
            lowestSpikeScale = Math.min(lowestSpikeScale, lastScale);
        }
        boolean spike = e.kind() == EventKind.SPIKE || e.kind() == EventKind.NONFINITE || e.kind() == EventKind.LOSS_SPIKE;
        if (spike && e.step() != spikeStep) {
            // one count per step, whichever detectors fired on it
            stepSpikes++;
            if (e.step() != lastSpikeStep + 1) {
                episodes++;
            }
            lastSpikeStep = e.step();
            spikeStep = e.step();
            spikeAfterHealthy = lastHealthy && lastStep == e.step() - 1;
            spikeParam = e.param();
        } else if (spike && spikeParam == null) {
            spikeParam = e.param();
        }
        if (e.kind() == EventKind.SPIKE || e.kind() == EventKind.NONFINITE) {
            gradSpikes++;
        } else if (e.kind() == EventKind.LOSS_SPIKE) {
            lossSpikes++;
        }
    }

    @Override
    public void onEnd(RunSummary s) {
        halted |= s.halted();
    }

    /** @return the events kept (the first 200) */
    public List<GuardEvent> events() {
        return List.copyOf(events);
    }

    /** @return what the run says so far */
    public RunDiagnosis diagnose() {
        boolean needed = clipped + skipped + rollbacks > 0 || halted || nonFinite > 0;
        List<Finding> out = new ArrayList<>();
        origin().ifPresent(out::add);
        depth().ifPresent(out::add);
        inputs(needed).ifPresent(out::add);
        recurrent().ifPresent(out::add);
        data().ifPresent(out::add);
        loss().ifPresent(out::add);
        learningRate(needed).ifPresent(out::add);
        warmup().ifPresent(out::add);
        clip(needed).ifPresent(out::add);
        return new RunDiagnosis(steps, needed, List.copyOf(out));
    }

    private java.util.Optional<Finding> origin() {
        if (first == null) {
            return java.util.Optional.empty();
        }
        String where = first.param() != null ? " in '" + first.param() + "'" : "";
        String what = switch (first.kind()) {
            case NONFINITE -> "a non-finite loss or gradient";
            case SPIKE -> "a gradient-norm spike";
            case LOSS_SPIKE -> "a loss spike";
            case GROWTH -> "runaway growth of the gradient norm";
            default -> "a " + first.kind().key();
        };
        List<String> ev = new ArrayList<>();
        ev.add("step " + first.step() + " " + first.kind().key() + ": " + cut(first.detail(), 240));
        return java.util.Optional.of(new Finding("origin", "The trouble started at step " + first.step() + " with "
                + what + where + ".", "", ev));
    }

    /** Gradient norms of one kind of parameter of a layer record, in model order (input side first). */
    private record Profile(String kind, List<String> names, double[] log10) {}

    private static Profile profile(LayerRecord r, String kind, Pattern pattern) {
        List<String> n = new ArrayList<>();
        List<Double> v = new ArrayList<>();
        for (int i = 0; i < r.names().size() && i < r.gradNorms().length; i++) {
            String name = r.names().get(i);
            double g = r.gradNorms()[i];
            if (pattern.matcher(name).find() && !RECURRENT.matcher(name).find() && Double.isFinite(g) && g > 0) {
                n.add(name);
                v.add(Math.log10(g));
            }
        }
        return new Profile(kind, n, v.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Decades from the input-side third to the output-side third, and the share of neighbours that agree. */
    private static double[] trend(double[] y) {
        int k = y.length;
        int third = Math.max(1, k / 3);
        double in = 0;
        double out = 0;
        for (int i = 0; i < third; i++) {
            in += y[i] / third;
            out += y[k - 1 - i] / third;
        }
        double decades = in - out;
        int agree = 0;
        for (int i = 0; i + 1 < k; i++) {
            if (Math.signum(y[i] - y[i + 1]) == Math.signum(decades)) {
                agree++;
            }
        }
        return new double[] {decades, agree / (double) (k - 1), agree};
    }

    /**
     * Inputs on different scales: in the first layer's gradient at the first measured step (usually step 0), split
     * by input column, a column at {@value #INPUT_RATIO} times the median column or more is an input on a larger
     * scale than the rest (the gradient of a first-layer weight is proportional to its input). The learning rate
     * that overshoots along those inputs looks too high, yet a lower one only slows every other input down.
     */
    private java.util.Optional<Finding> inputs(boolean needed) {
        LayerRecord r = inputLayers;
        if (!needed || r == null) {
            return java.util.Optional.empty();
        }
        double[] c = r.inputColumns();
        double[] sorted = c.clone();
        java.util.Arrays.sort(sorted);
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        if (!(median > 0)) {
            return java.util.Optional.empty();
        }
        List<String> large = new ArrayList<>();
        for (int i = 0; i < c.length; i++) {
            if (c[i] >= INPUT_RATIO * median) {
                large.add(String.format(Locale.ROOT, "input %d %.1fx", i, c[i] / median));
            }
        }
        if (large.isEmpty() || large.size() > c.length / 2) {
            return java.util.Optional.empty();
        }
        String shown = large.size() <= 6 ? String.join(", ", large)
                : String.join(", ", large.subList(0, 6)) + " and " + (large.size() - 6) + " more";
        String headline = "Inputs: " + large.size() + " of " + c.length + " input columns are on a larger scale than the"
                + " rest (the first layer's gradient per input column, against the median column: " + shown + ").";
        String advice = "standardize the inputs (subtract each column's mean, divide by its standard deviation, with the"
                + " statistics of the training set) before training; a lower learning rate would only hide it by slowing"
                + " every other input down.";
        List<String> ev = List.of(String.format(Locale.ROOT, "gradient of '%s' at step %d per input column: median %s,"
                + " largest %s", r.inputParam(), r.step(), fmt(median), fmt(sorted[sorted.length - 1])));
        return java.util.Optional.of(new Finding("inputs", headline, advice, ev));
    }

    private java.util.Optional<Finding> depth() {
        LayerRecord r = first != null ? originLayers : null;
        if (r == null) {
            return java.util.Optional.empty();
        }
        Profile best = null;
        double[] bestTrend = null;
        for (Profile p : List.of(profile(r, "bias", BIAS), profile(r, "weight", WEIGHT))) {
            if (p.log10().length < DEPTH_MIN_LAYERS) {
                continue;
            }
            double[] t = trend(p.log10());
            if (Math.abs(t[0]) >= DEPTH_DECADES && t[1] >= DEPTH_MONOTONE
                    && (bestTrend == null || Math.abs(t[0]) > Math.abs(bestTrend[0]))) {
                best = p;
                bestTrend = t;
            }
        }
        if (best == null) {
            return java.util.Optional.empty();
        }
        int k = best.log10().length;
        double decades = bestTrend[0];
        double perLayer = Math.pow(10, Math.abs(decades) / Math.max(1, k - Math.max(1, k / 3)));
        boolean towardsInput = decades > 0;
        List<String> ev = new ArrayList<>();
        ev.add(String.format(Locale.ROOT, "%s gradient norms of %d layers at step %d, input side to output side: %s",
                best.kind(), k, r.step(), profileText(best)));
        ev.add(String.format(Locale.ROOT, "the input-side third averages %.0fx the output-side third%s; %d of %d"
                + " neighbouring pairs follow the trend", Math.pow(10, decades), "", (int) bestTrend[2], k - 1));
        String headline = String.format(Locale.ROOT, "Depth: %s gradient norms %s layer by layer (about %.2fx per layer"
                + " over %d layers), the signature of a deep net without normalization or residual connections%s.",
                best.kind(), towardsInput ? "grow towards the input" : "shrink towards the input", perLayer, k,
                towardsInput ? " (gradients explode on their way back)" : " (gradients vanish on their way back)");
        String advice = "add normalization (LayerNorm or BatchNorm after each linear layer), residual connections"
                + " around blocks, or depth-scaled initialization (He/Kaiming variance 2/fan-in for ReLU, no more; for"
                + " residual branches scale the last layer of each branch by 1/sqrt(2 x depth), or start it at zero as"
                + " Fixup does).";
        return java.util.Optional.of(new Finding("depth", headline, advice, ev));
    }

    private static String profileText(Profile p) {
        StringBuilder sb = new StringBuilder();
        int k = p.log10().length;
        for (int i = 0; i < k; i++) {
            if (k > 12 && i == 5) {
                sb.append(" ... ");
                i = k - 6;
            }
            sb.append(i > 0 && sb.charAt(sb.length() - 1) != ' ' ? ", " : "").append(fmt(Math.pow(10, p.log10()[i])));
        }
        return sb.toString();
    }

    private java.util.Optional<Finding> recurrent() {
        if (first == null) {
            return java.util.Optional.empty();
        }
        String param = null;
        for (String n : names) {
            if (RECURRENT.matcher(n).find() && WEIGHT.matcher(n).find()) {
                param = n;
                break;
            }
        }
        if (param == null && first.param() != null && RECURRENT.matcher(first.param()).find()) {
            param = first.param();
        }
        if (param == null) {
            return java.util.Optional.empty();
        }
        List<String> ev = new ArrayList<>();
        ev.add("the model has a recurrent weight, '" + param + "', and the run exploded (first trouble at step "
                + first.step() + ")");
        if (first.param() != null && first.param().equals(param)) {
            ev.add("the first trouble event names it");
        }
        LayerRecord r = originLayers;
        int idx = r == null ? -1 : r.names().indexOf(param);
        if (idx >= 0) {
            int rank = 1;
            for (double g : r.gradNorms()) {
                if (g > r.gradNorms()[idx]) {
                    rank++;
                }
            }
            ev.add("at step " + r.step() + " its gradient norm " + fmt(r.gradNorms()[idx]) + " ranks " + rank + " of "
                    + r.gradNorms().length);
        }
        LayerRecord last = originLayers != null && originLayers.weightNorms() != null ? originLayers : lastAny;
        int i0 = firstLayers == null ? -1 : firstLayers.names().indexOf(param);
        int i1 = last == null ? -1 : last.names().indexOf(param);
        if (i0 >= 0 && i1 >= 0 && firstLayers.weightNorms() != null && last.weightNorms() != null && last != firstLayers) {
            double w0 = firstLayers.weightNorms()[i0];
            double w1 = last.weightNorms()[i1];
            if (w0 > 0 && Double.isFinite(w1)) {
                ev.add("its weight norm went from " + fmt(w0) + " (step " + firstLayers.step() + ") to " + fmt(w1) + " (step "
                        + last.step() + "), " + fmt(w1 / w0) + "x");
            }
        }
        double p95 = healthy.count() >= 20 ? healthy.quantile(0.95) : Double.NaN;
        String clipAdvice = Double.isFinite(p95) ? "clip the global gradient norm at about " + fmt(p95)
                + " (95th percentile of the healthy steps)" : "clip the global gradient norm";
        return java.util.Optional.of(new Finding("recurrent", "Recurrence: a vanilla recurrent weight ('" + param
                + "') multiplies the gradient once per time step, so long sequences explode it (Pascanu et al. 2013).",
                clipAdvice + "; use gated cells (LSTM or GRU) instead of a vanilla RNN; initialize the recurrent matrix"
                        + " orthogonally (spectral radius 1); shorten back-propagation through time if sequences are long.",
                ev));
    }

    private java.util.Optional<Finding> data() {
        if (oneOff.isEmpty() || oneOff.size() * 4 < episodes) {
            return java.util.Optional.empty();
        }
        StringBuilder steps = new StringBuilder();
        for (int i = 0; i < oneOff.size() && i < MAX_NAMED; i++) {
            steps.append(i > 0 ? ", " : "").append(oneOff.get(i));
        }
        if (oneOff.size() > MAX_NAMED) {
            steps.append(" and ").append(oneOff.size() - MAX_NAMED).append(" more");
        }
        List<String> ev = new ArrayList<>();
        ev.add(oneOff.size() + " of " + episodes + " spike episodes came and went in one step, between healthy steps:"
                + " steps " + steps);
        if (oneOffParams.get(0) != null) {
            ev.add("first one in '" + oneOffParams.get(0) + "'");
        }
        return java.util.Optional.of(new Finding("data", "Data: one-off spikes tied to single batches (the batches at steps "
                + steps + "), not a trend in training.",
                "inspect those batches for corrupted records, outliers, unnormalized features or wrong labels; filter or"
                        + " clip them at the source (GradGuard skipped or clipped them this time).", ev));
    }

    private java.util.Optional<Finding> loss() {
        if (spikesAtLowScale >= PERSISTENT_SPIKES && healthy.count() * 2 >= steps) {
            return java.util.Optional.of(new Finding("loss", "Not the learning rate alone: " + spikesAtLowScale
                    + " spikes came after the learning rate had been cut to " + fmt(LOW_SCALE) + "x or less (down to "
                    + fmt(lowestSpikeScale) + "x). Batches that blow up whatever the rate point at the loss's numerics (a"
                    + " log or a division near zero) or at outlier records.",
                    "guard the loss: an epsilon inside logs and denominators, or clamp them; prefer a robust loss (Huber"
                            + " instead of a relative error); look for outlier records in the batches named in the event log.",
                    List.of(spikesAtLowScale + " spike or non-finite events at a learning-rate scale <= " + fmt(LOW_SCALE)
                            + "; loss spikes " + lossSpikes + ", gradient spikes " + gradSpikes, healthy.count() + " of "
                            + steps + " steps were healthy, so the run trains between the spikes")));
        }
        if (lossSpikes == 0 || lossSpikes <= gradSpikes) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new Finding("loss", "Loss: " + lossSpikes + " loss spikes against " + gradSpikes
                + " gradient spikes; the loss itself jumps, which points at a loss with a log or a division near zero.",
                "guard the loss: add an epsilon inside logs and denominators (or clamp them), or use a robust loss"
                        + " (Huber instead of a relative error).",
                List.of("loss spikes " + lossSpikes + ", gradient spikes and non-finite steps " + gradSpikes)));
    }

    private java.util.Optional<Finding> learningRate(boolean needed) {
        List<String> ev = new ArrayList<>();
        String headline;
        String advice;
        double maxStableScale = stable.largest();
        if ((rollbacks > 0 || halted) && Double.isNaN(maxStableScale) && lastScale < 0.05) {
            ev.add(rollbacks + " rollback(s) cut the learning-rate scale to " + fmt(lastScale)
                    + " and no scale held for " + STABLE_STREAK + " healthy steps");
            headline = "Learning rate: not the cause; the run diverged at every learning rate tried, down to "
                    + fmt(lastScale) + "x yours.";
            advice = "fix the model's initialization or structure, or the data, first (see the other findings); then"
                    + " tune the learning rate.";
        } else if (rollbacks > 0 || halted) {
            ev.add(rollbacks + " rollback(s), each cutting the learning-rate scale; final scale " + fmt(lastScale));
            if (!Double.isNaN(maxStableScale)) {
                ev.add("largest scale that held for " + STABLE_STREAK + " healthy steps in a row (no clip, no spike) and"
                        + " stayed below every scale where instability showed: " + fmt(maxStableScale));
                headline = String.format(Locale.ROOT, "Learning rate: too high for this model; the largest stable learning"
                        + " rate seen was about %sx yours.", fmt(maxStableScale));
                advice = "set the learning rate to about " + fmt(maxStableScale / 2) + "x yours (half the largest stable"
                        + " rate, for headroom).";
            } else {
                double lowest = Math.min(stable.ceiling(), lastScale);
                ev.add("no scale held " + STABLE_STREAK + " healthy steps in a row below the lowest scale where"
                        + " instability showed (" + fmt(stable.ceiling()) + ")");
                headline = String.format(Locale.ROOT, "Learning rate: too high for this model; instability showed at"
                        + " every scale that ran long enough to tell, down to %sx yours.", fmt(lowest));
                advice = "set the learning rate to at most " + fmt(lowest / 2) + "x yours (half the lowest scale where"
                        + " instability showed).";
            }
        } else if (needed && steps > 0 && (clipped + skipped) * 50 >= steps) {
            ev.add(String.format(Locale.ROOT, "%d clipped and %d skipped of %d steps (%.1f%%)", clipped, skipped, steps,
                    100.0 * (clipped + skipped) / steps));
            headline = "Learning rate: probably too high; the guard had to hold back "
                    + String.format(Locale.ROOT, "%.1f%%", 100.0 * (clipped + skipped) / steps) + " of the steps.";
            advice = "try half your learning rate, or keep it and a clip threshold.";
        } else if (steps > 0 && nonFinite * 10 >= steps && first != null) {
            // a run nobody acted on (policy monitor or off): it went non-finite and stayed there
            ev.add(nonFinite + " of " + steps + " steps had a non-finite loss or gradient, from step " + first.step() + " on");
            headline = "Learning rate: probably too high; the run went non-finite at step " + first.step()
                    + " and did not recover.";
            advice = "lower the learning rate (try a third to a tenth of it) or run the learning-rate range test; with"
                    + " policy auto GradGuard would have rolled back and cut it for you.";
        } else if (lrRange == null) {
            return java.util.Optional.empty();
        } else {
            headline = "Learning rate: the range test's suggestion.";
            advice = "";
        }
        if (lrRange != null) {
            ev.add("learning-rate range test (" + fmt(lrRange.minLr()) + " to " + fmt(lrRange.maxLr()) + "): loss diverged at "
                    + (Double.isNaN(lrRange.divergenceLr()) ? "no rate tried" : fmt(lrRange.divergenceLr()))
                    + ", suggested " + fmt(lrRange.suggestedLr()));
            advice = (advice.isEmpty() ? "" : advice + " ") + "The range test suggests " + fmt(lrRange.suggestedLr()) + ".";
        }
        return java.util.Optional.of(new Finding("learning_rate", headline, advice, ev));
    }

    private java.util.Optional<Finding> warmup() {
        if (first == null || first.kind() == EventKind.WARNING || !oneOff.isEmpty() && oneOff.get(0) == first.step()) {
            return java.util.Optional.empty();
        }
        long at = first.step();
        double maxStableScale = stable.largest();
        boolean rateAlmostFine = rollbacks == 0 || (!Double.isNaN(maxStableScale) && maxStableScale >= 0.5)
                || stable.ceiling() >= 0.5 && lastScale >= 0.25;
        if (at >= Math.max(200, steps / 10) || !rateAlmostFine) {
            return java.util.Optional.empty();
        }
        long w = Math.min(2000, Math.max(100, ((4 * at + 99) / 100) * 100));
        return java.util.Optional.of(new Finding("warmup", "Warm-up: the trouble began at step " + at + " of " + steps
                + ", before the optimizer's statistics and the weights had settled.",
                "ramp the learning rate up linearly from near zero over about " + w + " steps.",
                List.of("first trouble event at step " + at + (rollbacks > 0 && !Double.isNaN(maxStableScale) ? "; later the run held "
                        + fmt(maxStableScale) + "x the learning rate for " + STABLE_STREAK + " healthy steps" : ""))));
    }

    private java.util.Optional<Finding> clip(boolean needed) {
        if (healthy.count() < 20) {
            return java.util.Optional.empty();
        }
        double p50 = healthy.quantile(0.5);
        double p95 = healthy.quantile(0.95);
        double max = healthy.max();
        String ev = String.format(Locale.ROOT, "%d healthy steps: median gradient norm %s, 95th percentile %s, largest %s",
                healthy.count(), fmt(p50), fmt(p95), fmt(max));
        return java.util.Optional.of(new Finding("clip", "Clip threshold: " + fmt(p95) + " sits just above the healthy steps'"
                + " norms" + (needed ? "" : " (for reference: this run needed no clipping)") + ".",
                "clip the global gradient norm at about " + fmt(p95) + (needed ? "" : " if you want a safety net")
                        + "; a threshold far below the median clips every step and slows training, one far above the"
                        + " largest healthy norm stops no spike.", List.of(ev)));
    }

    private static String cut(String s, int n) {
        return s == null ? "" : s.length() <= n ? s : s.substring(0, n) + "...";
    }

    static String fmt(double v) {
        return Numbers.significant(v, 3);
    }
}
