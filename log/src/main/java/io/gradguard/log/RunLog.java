package io.gradguard.log;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.gradguard.core.Action;
import io.gradguard.core.ConfigSources;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.RunInfo;
import io.gradguard.core.diagnose.Diagnoser;
import io.gradguard.core.diagnose.LrRange;
import io.gradguard.core.diagnose.RunDiagnosis;
import io.gradguard.core.event.EventKind;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.event.GuardListener;
import io.gradguard.core.event.LayerRecord;
import io.gradguard.core.event.RunSummary;
import io.gradguard.core.event.StepRecord;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A recorded event log (the JSONL file a guard writes with {@code log=...}), read back: the run header,
 * the steps, the per-layer records, the events and the totals, in file order. A line that is not valid
 * JSON (the last line of a killed process, say) is counted and skipped.
 *
 * <p>Each line is parsed with Jackson into plain values, as the core's writer meant them: objects become
 * {@code Map}s in file order, arrays {@code List}s, every number a {@code Double}, and the strings
 * {@code "NaN"}, {@code "Infinity"} and {@code "-Infinity"} (how the writer spells non-finite numbers) stay
 * strings until a numeric field is read. Those are the values {@link #header()}, {@link RunInfo#extra()} and
 * {@link GuardEvent#data()} hold.
 */
public final class RunLog {

    /**
     * One line, one JSON value: anything after it makes the line bad. The other features keep what the
     * reader this one replaced accepted beyond strict JSON (a leading {@code +}, leading zeros, a leading or
     * trailing decimal point, control characters inside strings, a backslash before any character); the
     * writer never produces them.
     */
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonReadFeature.ALLOW_LEADING_PLUS_SIGN_FOR_NUMBERS,
                    JsonReadFeature.ALLOW_LEADING_ZEROS_FOR_NUMBERS,
                    JsonReadFeature.ALLOW_LEADING_DECIMAL_POINT_FOR_NUMBERS,
                    JsonReadFeature.ALLOW_TRAILING_DECIMAL_POINT_FOR_NUMBERS,
                    JsonReadFeature.ALLOW_UNESCAPED_CONTROL_CHARS,
                    JsonReadFeature.ALLOW_BACKSLASH_ESCAPING_ANY_CHARACTER)
            .build();

    private final Path source;
    private RunInfo info;
    private GuardConfig config = GuardConfig.ofDefaults();
    private final Map<String, Object> header = new LinkedHashMap<>();
    private final List<Object> records = new ArrayList<>();
    private final List<StepRecord> steps = new ArrayList<>();
    private final List<LayerRecord> layers = new ArrayList<>();
    private final List<GuardEvent> events = new ArrayList<>();
    private RunSummary end;
    private int badLines;

    private RunLog(Path source) {
        this.source = source;
    }

    /**
     * Reads a log.
     *
     * @param file the JSONL file
     * @return the log
     * @throws IOException when the file cannot be read
     * @throws IllegalArgumentException when it holds no GradGuard record at all
     */
    public static RunLog read(Path file) throws IOException {
        RunLog log = new RunLog(file);
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    log.add(plain(JSON.readTree(line)));
                } catch (JsonProcessingException | IllegalArgumentException | ClassCastException e) {
                    log.badLines++;
                }
            }
        }
        if (log.info == null && log.steps.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no GradGuard run header or step record (is it a GradGuard"
                    + " event log, written with log=FILE?)");
        }
        if (log.info == null) {
            log.info = new RunInfo("unknown", "unknown", "unknown", List.of(), Map.of());
        }
        return log;
    }

    @SuppressWarnings("unchecked")
    private void add(Object parsed) {
        if (!(parsed instanceof Map<?, ?> raw)) {
            badLines++;
            return;
        }
        Map<String, Object> m = (Map<String, Object>) raw;
        String type = String.valueOf(m.get("type"));
        switch (type) {
            case "run" -> {
                header.putAll(m);
                List<RunInfo.Parameter> params = new ArrayList<>();
                if (m.get("params") instanceof Map<?, ?> p) {
                    p.forEach((k, v) -> params.add(new RunInfo.Parameter(String.valueOf(k), (long) number(v))));
                }
                Map<String, Object> extra = new LinkedHashMap<>(m);
                List.of("type", "version", "engine", "device", "attachment", "config", "params").forEach(extra::remove);
                info = new RunInfo(str(m.get("engine")), str(m.get("device")), str(m.get("attachment")), params, extra);
                if (m.get("config") instanceof Map<?, ?> c) {
                    config = parseConfig(c);
                }
                records.add(info);
            }
            case "step" -> {
                double loss = number(m.get("loss"));
                StepRecord s = new StepRecord((long) number(m.get("step")), loss, m.get("loss") != null,
                        number(m.get("grad_norm")), number(m.get("clip_coef")),
                        number(m.get("lr_scale")), Action.valueOf(str(m.get("action")).toUpperCase(Locale.ROOT)));
                steps.add(s);
                records.add(s);
            }
            case "layers" -> {
                List<String> names = new ArrayList<>();
                List<Double> grads = new ArrayList<>();
                if (m.get("grad_norms") instanceof Map<?, ?> g) {
                    g.forEach((k, v) -> {
                        names.add(String.valueOf(k));
                        grads.add(number(v));
                    });
                }
                double[] weights = null;
                if (m.get("weight_norms") instanceof Map<?, ?> w) {
                    weights = new double[names.size()];
                    for (int i = 0; i < names.size(); i++) {
                        weights[i] = number(w.get(names.get(i)));
                    }
                }
                double[] columns = null;
                if (m.get("input_grad_columns") instanceof List<?> c) {
                    columns = c.stream().mapToDouble(RunLog::number).toArray();
                }
                LayerRecord l = new LayerRecord((long) number(m.get("step")), names,
                        grads.stream().mapToDouble(Double::doubleValue).toArray(), weights,
                        m.get("input_param") == null ? null : str(m.get("input_param")), columns);
                layers.add(l);
                records.add(l);
            }
            case "event" -> {
                Map<String, Object> data = new LinkedHashMap<>(m);
                List.of("type", "step", "kind", "detail", "param").forEach(data::remove);
                GuardEvent e = new GuardEvent((long) number(m.get("step")),
                        EventKind.valueOf(str(m.get("kind")).toUpperCase(Locale.ROOT)), str(m.get("detail")),
                        m.get("param") == null ? null : str(m.get("param")), data);
                events.add(e);
                records.add(e);
            }
            case "end" -> {
                end = new RunSummary((long) number(m.get("steps")), (long) number(m.get("clipped")),
                        (long) number(m.get("skipped")), (long) number(m.get("nonfinite")),
                        (long) number(m.get("rollbacks")), number(m.get("lr_scale")),
                        Boolean.TRUE.equals(m.get("halted")));
                records.add(end);
            }
            default -> badLines++;
        }
    }

    /**
     * @param node a parsed JSON value
     * @return the value as plain Java: {@code LinkedHashMap}, {@code ArrayList}, {@code Double}, {@code String},
     *         {@code Boolean} or null
     */
    private static Object plain(JsonNode node) {
        if (node.isObject()) {
            Map<String, Object> m = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                m.put(e.getKey(), plain(e.getValue()));
            }
            return m;
        }
        if (node.isArray()) {
            List<Object> l = new ArrayList<>(node.size());
            node.forEach(v -> l.add(plain(v)));
            return l;
        }
        if (node.isNumber()) {
            return node.doubleValue();
        }
        if (node.isTextual()) {
            return node.textValue();
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        return null;
    }

    /**
     * @param v a plain value: a number, or one of the strings the writer uses for non-finite numbers
     * @return the number, or NaN when {@code v} is null or anything else
     */
    private static double number(Object v) {
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (v instanceof String str) {
            return switch (str) {
                case "Infinity" -> Double.POSITIVE_INFINITY;
                case "-Infinity" -> Double.NEGATIVE_INFINITY;
                default -> Double.NaN;
            };
        }
        return Double.NaN;
    }

    private static GuardConfig parseConfig(Map<?, ?> c) {
        StringBuilder text = new StringBuilder();
        c.forEach((k, v) -> {
            if (v == null || String.valueOf(v).isEmpty() || String.valueOf(v).contains(",")) {
                return;
            }
            Object value = v instanceof Double d && d == Math.rint(d) && Math.abs(d) < 1e15 ? (Object) d.longValue() : v;
            text.append(text.length() > 0 ? "," : "").append(k).append('=').append(value);
        });
        try {
            return ConfigSources.parse(text.toString());
        } catch (RuntimeException e) {
            return GuardConfig.ofDefaults();
        }
    }

    private static String str(Object o) {
        return o == null ? "" : String.valueOf(o);
    }

    /**
     * Feeds the log to a listener, as the guard did live.
     *
     * @param listener the listener
     */
    public void replay(GuardListener listener) {
        for (Object r : records) {
            if (r instanceof RunInfo i) {
                listener.onRun(i, config);
            } else if (r instanceof StepRecord s) {
                listener.onStep(s);
            } else if (r instanceof LayerRecord l) {
                listener.onLayers(l);
            } else if (r instanceof GuardEvent e) {
                listener.onEvent(e);
            } else if (r instanceof RunSummary s) {
                listener.onEnd(s);
            }
        }
    }

    /** @return the diagnosis of this run */
    public RunDiagnosis diagnose() {
        return diagnose(null);
    }

    /**
     * @param range a learning-rate range test's outcome for this model, or null
     * @return the diagnosis of this run
     */
    public RunDiagnosis diagnose(LrRange range) {
        Diagnoser d = new Diagnoser().withLrRange(range);
        replay(d);
        return d.diagnose();
    }

    /** @return the file it was read from */
    public Path source() {
        return source;
    }

    /** @return the run header */
    public RunInfo info() {
        return info;
    }

    /** @return the header's raw fields */
    public Map<String, Object> header() {
        return header;
    }

    /** @return the configuration the run used (defaults where the header did not say) */
    public GuardConfig config() {
        return config;
    }

    /** @return the step records */
    public List<StepRecord> steps() {
        return steps;
    }

    /** @return the per-layer records */
    public List<LayerRecord> layers() {
        return layers;
    }

    /** @return the events */
    public List<GuardEvent> events() {
        return events;
    }

    /** @return the totals, or null when the run did not end cleanly */
    public RunSummary end() {
        return end;
    }

    /** @return lines that were not valid records */
    public int badLines() {
        return badLines;
    }
}
