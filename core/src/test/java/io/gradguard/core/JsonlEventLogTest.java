package io.gradguard.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gradguard.core.event.JsonlEventLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlEventLogTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static List<JsonNode> read(Path p) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(p)) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    @Test
    void everyLineIsValidJsonFlushedAsItIsWritten() throws Exception {
        Path log = dir.resolve("sub/run.jsonl");
        RunInfo info = new RunInfo("engine \"x\"", "cpu()", "unit",
                List.of(new RunInfo.Parameter("w", 4), new RunInfo.Parameter("b\\n", 1)), Map.of("snapshot_bytes", 20L));
        try (Guard g = new Guard(GuardConfig.custom().log(log).layersEvery(2).build())) {
            g.begin(info);
            g.decide(StepStats.of(0, 1.5, true, new double[] {3, 4}), () -> new double[] {10, 1});
            // flushed per line: readable while the guard is still open
            List<JsonNode> soFar = read(log);
            assertThat(soFar).extracting(n -> n.get("type").asText()).contains("run", "step", "layers");
            g.decide(StepStats.of(1, Double.NaN, true, new double[] {Double.POSITIVE_INFINITY, Double.NaN}), () -> null);
            g.decide(StepStats.of(2, 0.5, false, new double[] {-0.0, 1}), null);
        }
        List<JsonNode> lines = read(log);
        JsonNode run = lines.get(0);
        assertThat(run.get("type").asText()).isEqualTo("run");
        assertThat(run.get("engine").asText()).isEqualTo("engine \"x\"");
        assertThat(run.get("params").get("w").asLong()).isEqualTo(4);
        assertThat(run.get("params").has("b\\n")).isTrue();
        assertThat(run.get("config").get("policy").asText()).isEqualTo("auto");
        assertThat(run.get("config").get("spike.z").isNumber()).isTrue();
        assertThat(run.get("config").get("spike.z").asDouble()).isEqualTo(6.0);
        assertThat(run.get("config").get("layers.every").asInt()).isEqualTo(2);
        assertThat(run.get("snapshot_bytes").asLong()).isEqualTo(20);

        JsonNode step0 = lines.stream().filter(n -> n.get("type").asText().equals("step")).findFirst().orElseThrow();
        assertThat(step0.get("step").asLong()).isZero();
        assertThat(step0.get("loss").asDouble()).isEqualTo(1.5);
        assertThat(step0.get("grad_norm").asDouble()).isEqualTo(5.0);
        assertThat(step0.get("clip_coef").asDouble()).isEqualTo(1.0);
        assertThat(step0.get("lr_scale").asDouble()).isEqualTo(1.0);
        assertThat(step0.get("action").asText()).isEqualTo("step");

        JsonNode layers0 = lines.stream().filter(n -> n.get("type").asText().equals("layers")).findFirst().orElseThrow();
        assertThat(layers0.get("grad_norms").get("w").asDouble()).isEqualTo(3.0);
        assertThat(layers0.get("weight_norms").get("w").asDouble()).isEqualTo(10.0);

        JsonNode nonFiniteStep = lines.stream()
                .filter(n -> n.get("type").asText().equals("step") && n.get("step").asLong() == 1).findFirst().orElseThrow();
        assertThat(nonFiniteStep.get("loss").asText()).isEqualTo("NaN");
        assertThat(nonFiniteStep.get("grad_norm").asText()).isEqualTo("NaN");
        assertThat(nonFiniteStep.get("action").asText()).isEqualTo("skip");
        JsonNode event = lines.stream().filter(n -> n.get("type").asText().equals("event")
                && n.get("kind").asText().equals("nonfinite")).findFirst().orElseThrow();
        assertThat(event.get("step").asLong()).isEqualTo(1);
        assertThat(event.get("param").asText()).isEqualTo("b\\n");
        JsonNode layers1 = lines.stream().filter(n -> n.get("type").asText().equals("layers")
                && n.get("step").asLong() == 1).findFirst().orElseThrow();
        assertThat(layers1.get("grad_norms").get("w").asText()).isEqualTo("Infinity");
        assertThat(layers1.has("weight_norms")).isFalse();

        JsonNode unknownLoss = lines.stream()
                .filter(n -> n.get("type").asText().equals("step") && n.get("step").asLong() == 2).findFirst().orElseThrow();
        assertThat(unknownLoss.get("loss").asText()).isEqualTo("NaN");

        JsonNode end = lines.get(lines.size() - 1);
        assertThat(end.get("type").asText()).isEqualTo("end");
        assertThat(end.get("steps").asLong()).isEqualTo(3);
        assertThat(end.get("skipped").asLong()).isEqualTo(1);
    }

    @Test
    void writesToAnyWriter() throws Exception {
        java.io.StringWriter sw = new java.io.StringWriter();
        try (JsonlEventLog log = new JsonlEventLog(sw)) {
            log.onEvent(new io.gradguard.core.event.GuardEvent(3, io.gradguard.core.event.EventKind.WARNING, "a \"quoted\"\tline", null));
        }
        JsonNode n = JSON.readTree(sw.toString());
        assertThat(n.get("detail").asText()).isEqualTo("a \"quoted\"\tline");
        assertThat(n.get("param").isNull()).isTrue();
        assertThat(n.get("kind").asText()).isEqualTo("warning");
    }
}
