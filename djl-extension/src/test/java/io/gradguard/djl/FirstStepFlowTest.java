package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.gradguard.core.GuardConfig;
import io.gradguard.djl.doctor.FlowCheck;
import io.gradguard.models.BadInitScenario;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.Scenario;
import io.gradguard.models.Variant;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guard's gradient-flow check on its first step, on the real PyTorch engine: a warning event at step 0 when the
 * weight gradients compound with depth or the first update is too large a part of a weight, none on a healthy model.
 */
class FirstStepFlowTest {

    @TempDir
    Path dir;

    private List<JsonNode> flowWarnings(Scenario s, Variant v, String name) {
        Train.Result r = Train.listener(s, v, GuardConfig.ofDefaults(), dir.resolve(name + ".jsonl"));
        return Train.events(r.lines(), "warning").stream()
                .filter(e -> e.path("detail").asText().startsWith(FlowCheck.FIRST_STEP_WARNING)).toList();
    }

    @Test
    void aDeepNetWithBadInitializationIsWarnedOfOnItsFirstStep() {
        BadInitScenario s = new BadInitScenario();
        // without the guard this set-up explodes (the warning is about a real fault, not a cosmetic one)
        assertThat(Train.bare(s, Variant.EXPLODING)).matches(l -> !Float.isFinite(l) || l > 10 * Train.bare(s, Variant.REFERENCE));
        List<JsonNode> warned = flowWarnings(s, Variant.EXPLODING, "bad");
        assertThat(warned).hasSize(1);
        JsonNode w = warned.get(0);
        assertThat(w.path("step").asLong()).isZero();
        // it names the kind and the layer where the flow leaves its range
        assertThat(w.path("detail").asText()).containsPattern("(grows x[0-9.]+ per layer towards the input|the first update moves \\d\\dLinear_weight)");
        assertThat(w.path("detail").asText()).contains("Doctor");
    }

    @Test
    void healthyModelsGetNoFlowWarning() {
        assertThat(flowWarnings(new BadInitScenario(), Variant.REFERENCE, "he")).isEmpty();
        assertThat(flowWarnings(new DeepMlpScenario(), Variant.REFERENCE, "mlp")).isEmpty();
    }
}
