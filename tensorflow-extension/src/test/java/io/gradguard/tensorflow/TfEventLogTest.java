package io.gradguard.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.training.Trainer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gradguard.core.GuardConfig;
import io.gradguard.djl.GradGuardListener;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Scenarios;
import io.gradguard.models.Variant;
import io.gradguard.models.tf.TfMlpScenario;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A TensorFlow run writes the same JSONL event log as a DJL run: same record types, same fields. */
class TfEventLogTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void tensorFlowAndDjlRunsWriteTheSameSchema(@TempDir Path dir) throws Exception {
        Path tfLog = dir.resolve("tf.jsonl");
        TfTrain.Result tf = TfTrain.guarded(new TfMlpScenario(), TfMlpScenario::sgdMomentum,
                TfMlpScenario.EXPLODING_SGD_MOMENTUM_LR, GuardConfig.custom().layersEvery(50).build(), tfLog);
        assertThat(tf.summary().rollbacks()).isGreaterThan(0);

        Path djlLog = dir.resolve("djl.jsonl");
        Scenario deep = Scenarios.all().stream().filter(s -> s.name().startsWith("deep-mlp")).findFirst().orElseThrow();
        GradGuardListener listener = new GradGuardListener(GuardConfig.custom().layersEvery(50).log(djlLog).build());
        try (ScenarioRun run = deep.open(Variant.EXPLODING)) {
            run.config().addTrainingListeners(listener);
            try (Trainer t = run.newTrainer()) {
                run.fit(t);
            }
        }

        Map<String, Set<String>> tfSchema = schema(tfLog);
        Map<String, Set<String>> djlSchema = schema(djlLog);
        System.out.println("TF log schema: " + tfSchema);
        assertThat(tfSchema.keySet()).contains("run", "step", "layers", "event:snapshot", "event:spike",
                "event:rollback", "end");
        // the run header: the same required fields; each engine adds its own facts (optimizer, ...)
        Set<String> required = Set.of("type", "version", "engine", "device", "attachment", "config", "params", "time");
        assertThat(tfSchema.get("run")).containsAll(required);
        assertThat(djlSchema.get("run")).containsAll(required);
        // the first layer's gradient by input column rides in DJL's layers records only (the TF graph does not split it)
        assertThat(djlSchema.get("layers")).contains("input_param", "input_grad_columns");
        djlSchema.get("layers").removeAll(Set.of("input_param", "input_grad_columns"));
        for (String type : tfSchema.keySet()) {
            if (!type.equals("run") && djlSchema.containsKey(type)) {
                assertThat(tfSchema.get(type)).as("fields of %s", type).isEqualTo(djlSchema.get(type));
            }
        }
        // the kinds both runs had cover every record type
        assertThat(djlSchema.keySet()).contains("run", "step", "layers", "event:snapshot", "event:rollback", "end");
        JsonNode run = JSON.readTree(Files.readAllLines(tfLog).get(0));
        assertThat(run.path("engine").asText()).startsWith("TensorFlow Java");
        assertThat(run.path("attachment").asText()).isEqualTo("api");
        assertThat(run.path("params").size()).isEqualTo(18);
    }

    /** Record type (events by kind) to the set of field names, over every line; each line must parse. */
    private static Map<String, Set<String>> schema(Path log) throws Exception {
        Map<String, Set<String>> out = new TreeMap<>();
        for (String line : Files.readAllLines(log)) {
            JsonNode n = JSON.readTree(line);
            String type = n.path("type").asText();
            if (type.equals("event")) {
                type += ":" + n.path("kind").asText();
            }
            Set<String> fields = new TreeSet<>();
            for (Iterator<String> it = n.fieldNames(); it.hasNext();) {
                fields.add(it.next());
            }
            out.computeIfAbsent(type, k -> new TreeSet<>()).addAll(fields);
        }
        return out;
    }
}
