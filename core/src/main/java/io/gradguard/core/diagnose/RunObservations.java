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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a run showed, kept for the findings rules: step and action counts, healthy gradient norms (in a
 * log-spaced histogram), the first trouble event, a few layer records (the first, the first with input columns,
 * the last clean one before the first trouble, the latest), the spikes that came and went in one step, and
 * which learning-rate scales held. Memory is bounded whatever the run's length: at most
 * {@value #MAX_EVENTS} events are kept.
 */
final class RunObservations implements GuardListener {

    /** A learning-rate scale this low that still sees spikes means the learning rate is not the cause. */
    static final double LOW_SCALE = 0.25;
    /** Fewer input columns than this say nothing about scale. */
    static final int INPUT_MIN_COLUMNS = 4;
    /** Events kept for {@link #events()}. */
    static final int MAX_EVENTS = 200;
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
    private int episodes;
    private long lastSpikeStep = -10;
    private int lossSpikes;
    private final StableScales stable = new StableScales();
    private boolean troubleThisStep;
    private double lastScale = 1.0;
    private LrRange lrRange;

    /** A learning-rate range test's outcome given by the caller; the run header's is used only when none is. */
    void lrRange(LrRange range) {
        this.lrRange = range;
    }

    @Override
    public void onRun(RunInfo info, GuardConfig config) {
        names = info.parameterNames();
        if (lrRange == null && info.extra().get("lr_range") instanceof Map<?, ?> m) {
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
                && Arrays.stream(r.inputColumns()).allMatch(Double::isFinite)) {
            inputLayers = r;
        }
        if (firstLayers == null) {
            firstLayers = r;
        }
        boolean finite = Arrays.stream(r.gradNorms()).allMatch(Double::isFinite);
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

    /** @return whether the guard had to clip, skip, roll back or halt, or a step was non-finite */
    boolean neededHelp() {
        return clipped + skipped + rollbacks > 0 || halted || nonFinite > 0;
    }

    // What the rules read. Counts of steps:

    long steps() {
        return steps;
    }

    long clipped() {
        return clipped;
    }

    long skipped() {
        return skipped;
    }

    long rollbacks() {
        return rollbacks;
    }

    long nonFinite() {
        return nonFinite;
    }

    boolean halted() {
        return halted;
    }

    /** @return the gradient norms of the healthy steps (applied unclipped, finite) */
    LogHistogram healthy() {
        return healthy;
    }

    // The run's parameters, its events and its layer records:

    List<String> names() {
        return names;
    }

    /** @return the events kept, in order (a live view) */
    List<GuardEvent> events() {
        return Collections.unmodifiableList(events);
    }

    /** @return the first trouble event (spike, non-finite, growth, rise, collapse, cut, rollback, halt), or null */
    GuardEvent first() {
        return first;
    }

    /** @return the last layer record with finite gradients at or before the first trouble, or null */
    LayerRecord originLayers() {
        return originLayers;
    }

    /** @return the first layer record, or null */
    LayerRecord firstLayers() {
        return firstLayers;
    }

    /** @return the latest layer record, or null */
    LayerRecord lastAny() {
        return lastAny;
    }

    /** @return the first layer record with at least {@value #INPUT_MIN_COLUMNS} finite input columns, or null */
    LayerRecord inputLayers() {
        return inputLayers;
    }

    // Spikes:

    /** @return the steps whose spike came and went in one step, between healthy steps */
    List<Long> oneOff() {
        return Collections.unmodifiableList(oneOff);
    }

    /** @return the parameter each of {@link #oneOff()} first showed in (null where none was named) */
    List<String> oneOffParams() {
        return Collections.unmodifiableList(oneOffParams);
    }

    /** @return runs of consecutive spiking steps */
    int episodes() {
        return episodes;
    }

    /** @return gradient-norm spike and non-finite events */
    int gradSpikes() {
        return gradSpikes;
    }

    /** @return loss spike events */
    int lossSpikes() {
        return lossSpikes;
    }

    /** @return trouble events (not rollbacks or halts) at a learning-rate scale of {@value #LOW_SCALE} or less */
    int spikesAtLowScale() {
        return spikesAtLowScale;
    }

    /** @return the lowest learning-rate scale a counted {@link #spikesAtLowScale()} event came at */
    double lowestSpikeScale() {
        return lowestSpikeScale;
    }

    // The learning rate:

    /** @return which learning-rate scales held */
    StableScales stable() {
        return stable;
    }

    /** @return the learning-rate scale of the latest step */
    double lastScale() {
        return lastScale;
    }

    /** @return the learning-rate range test's outcome, or null */
    LrRange lrRange() {
        return lrRange;
    }
}
