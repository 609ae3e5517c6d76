package io.gradguard.core;

import io.gradguard.core.diagnose.Diagnoser;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The guard's recording role: everything a run leaves behind, and nothing it decides. It owns the listeners
 * (SLF4J, the live {@link Diagnoser}, the JSONL file opened at {@link #begin}), writes the run header (with the
 * learning-rate range test, when one was handed over), holds warnings raised before the header until it is
 * written, publishes step, layers and event records, and at the end the totals and, for a run that needed
 * help, the diagnosis on SLF4J. The decision side ({@link Ladder}, {@link Recovery}) reaches it only through
 * {@link #event}.
 */
final class Recorder {

    private final EventPublisher publisher = new EventPublisher();
    private final Diagnoser diagnoser = new Diagnoser();
    private final List<String> earlyWarnings = new ArrayList<>();
    private JsonlEventLog ownedLog;
    private LrRange lrRange;
    private boolean begun;
    private boolean closed;
    private boolean eventThisStep;
    private String pendingInputParam;
    private double[] pendingColumns;

    Recorder() {
        publisher.add(new Slf4jEventLog());
        publisher.add(diagnoser);
    }

    void addListener(GuardListener listener) {
        publisher.add(listener);
    }

    void lrRange(LrRange range) {
        diagnoser.withLrRange(range);
        this.lrRange = range;
    }

    RunDiagnosis diagnosis() {
        return diagnoser.diagnose();
    }

    /**
     * The advice of the diagnosis rules (structure, data, learning rate...) as one paragraph for a halt, so that
     * the halt message and the diagnosis never disagree.
     */
    String haltAdvice() {
        StringBuilder advice = new StringBuilder();
        for (Finding f : diagnoser.diagnose().findings()) {
            if (!f.advice().isEmpty() && !f.rule().equals("clip")) {
                advice.append(advice.length() > 0 ? " " : "").append(f.rule().replace('_', ' ')).append(": ").append(f.advice());
            }
        }
        return advice.toString();
    }

    /** Opens the log (once) and writes the run header, then the warnings held until now. */
    void begin(RunInfo info, GuardConfig config) {
        if (begun) {
            return;
        }
        begun = true;
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
        earlyWarnings.forEach(w -> event(new GuardEvent(0, EventKind.WARNING, w, null)));
        earlyWarnings.clear();
    }

    /** A warning: published at once after {@link #begin}, held until then before it. */
    void warning(long step, String message) {
        if (!begun) {
            // an adapter finding out, while it prepares, what it cannot do: held until begin() has opened the log
            earlyWarnings.add(message);
            return;
        }
        event(new GuardEvent(step, EventKind.WARNING, message, null));
    }

    void event(GuardEvent e) {
        eventThisStep = true;
        publisher.event(e);
    }

    void inputColumns(String param, double[] columns) {
        this.pendingInputParam = param;
        this.pendingColumns = columns == null ? null : columns.clone();
    }

    /** A new step starts: no event yet. */
    void stepStarts() {
        eventThisStep = false;
    }

    /**
     * The step's record, and its layers record when one is due or the step had an event.
     *
     * @param weightNorms the step's weight norms (asked at most once), or null
     */
    void step(StepStats s, Decision d, double lrScale, List<String> names, boolean layersDue,
            java.util.function.Supplier<double[]> weightNorms) {
        if (publisher.hasListeners()) {
            publisher.step(new StepRecord(s.step(), s.loss(), s.lossKnown(), s.gradNorm(), d.clipCoef(), lrScale, d.action()));
            if ((eventThisStep || layersDue) && s.paramGradNorms() != null && names.size() == s.paramGradNorms().length) {
                double[] w = weightNorms == null ? null : weightNorms.get();
                publisher.layers(new LayerRecord(s.step(), names, s.paramGradNorms(), w != null && w.length == names.size() ? w : null,
                        pendingColumns == null ? null : pendingInputParam, pendingColumns));
            }
        }
        pendingColumns = null;
    }

    /** Publishes the totals (and, for a run that needed help, the diagnosis on SLF4J) and closes the log. Idempotent. */
    void close(RunSummary total) {
        if (closed) {
            return;
        }
        closed = true;
        if (begun) {
            publisher.end(total);
            if (total.intervened() || total.nonFinite() > 0) {
                org.slf4j.LoggerFactory.getLogger("io.gradguard").warn("{}", diagnosis().text());
            }
        }
        if (ownedLog != null) {
            ownedLog.close();
        }
    }
}
