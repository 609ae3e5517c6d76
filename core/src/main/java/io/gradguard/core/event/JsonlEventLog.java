package io.gradguard.core.event;

import io.gradguard.core.GuardConfig;
import io.gradguard.core.RunInfo;
import io.gradguard.core.internal.Json;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes the event log: one JSON object per line, flushed per line, in the schema of DESIGN.md
 * ({@code run}, {@code step}, {@code layers}, {@code event}, and a closing {@code end} line).
 */
public final class JsonlEventLog implements GuardListener, AutoCloseable {

    /** The version written in the run header. */
    public static final String VERSION = "0.1.0";

    private final Writer out;
    private final Path path;
    private boolean failed;

    /**
     * Opens (and truncates) a log file, creating parent directories.
     *
     * @param path where to write
     * @throws UncheckedIOException when the file cannot be opened
     */
    public JsonlEventLog(Path path) {
        this.path = path;
        try {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            this.out = Files.newBufferedWriter(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("GradGuard cannot open the event log " + path, e);
        }
    }

    /**
     * Writes to any writer (tests, in-memory).
     *
     * @param out the writer; closed with this log
     */
    public JsonlEventLog(Writer out) {
        this.out = out instanceof BufferedWriter ? out : new BufferedWriter(out);
        this.path = null;
    }

    /** @return the file path, or null when writing to a writer */
    public Path path() {
        return path;
    }

    private void line(Json json) {
        if (failed) {
            return;
        }
        try {
            out.write(json.toString());
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            failed = true;
            throw new UncheckedIOException("GradGuard cannot write the event log " + path + "; logging stops", e);
        }
    }

    @Override
    public void onRun(RunInfo info, GuardConfig config) {
        Json params = new Json();
        for (RunInfo.Parameter p : info.parameters()) {
            params.put(p.name(), p.size());
        }
        Map<String, Object> cfg = new LinkedHashMap<>();
        config.asMap().forEach((k, v) -> cfg.put(k, typed(v)));
        Json j = new Json()
                .put("type", "run")
                .put("version", VERSION)
                .put("engine", info.engine())
                .put("device", info.device())
                .put("attachment", info.attachment())
                .putAny("config", cfg)
                .put("params", params)
                .put("time", java.time.Instant.now().toString());
        info.extra().forEach(j::putAny);
        line(j);
    }

    /** Config values as JSON numbers where they are numbers; text stays text. */
    private static Object typed(String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException notLong) {
            try {
                return Double.parseDouble(v);
            } catch (NumberFormatException notNumber) {
                return v;
            }
        }
    }

    @Override
    public void onStep(StepRecord r) {
        line(new Json()
                .put("type", "step")
                .put("step", r.step())
                .put("loss", r.lossKnown() ? r.loss() : Double.NaN)
                .put("grad_norm", r.gradNorm())
                .put("clip_coef", r.clipCoef())
                .put("lr_scale", r.lrScale())
                .put("action", r.action().key()));
    }

    @Override
    public void onLayers(LayerRecord r) {
        Json j = new Json().put("type", "layers").put("step", r.step()).putNumbers("grad_norms", r.names(), r.gradNorms());
        if (r.weightNorms() != null) {
            j.putNumbers("weight_norms", r.names(), r.weightNorms());
        }
        if (r.inputColumns() != null && r.inputParam() != null) {
            j.put("input_param", r.inputParam());
            j.putAny("input_grad_columns", java.util.Arrays.stream(r.inputColumns()).boxed().toList());
        }
        line(j);
    }

    @Override
    public void onEvent(GuardEvent e) {
        Json j = new Json()
                .put("type", "event")
                .put("step", e.step())
                .put("kind", e.kind().key())
                .put("detail", e.detail())
                .put("param", e.param());
        e.data().forEach(j::putAny);
        line(j);
    }

    @Override
    public void onEnd(RunSummary s) {
        line(new Json()
                .put("type", "end")
                .put("steps", s.steps())
                .put("clipped", s.clipped())
                .put("skipped", s.skipped())
                .put("nonfinite", s.nonFinite())
                .put("rollbacks", s.rollbacks())
                .put("lr_scale", s.lrScale())
                .put("halted", s.halted()));
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
