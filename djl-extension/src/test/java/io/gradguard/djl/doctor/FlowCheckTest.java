package io.gradguard.djl.doctor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.training.Trainer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gradguard.djl.doctor.FlowReport.Kind;
import io.gradguard.djl.internal.GradientInspector;
import io.gradguard.models.BadInitScenario;
import io.gradguard.models.FeatureScaleScenario;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import org.junit.jupiter.api.Test;

/** The flow check on the real engine: what it finds on the zoo's bad-init and feature-scale set-ups and their references. */
class FlowCheckTest {

    static FlowReport check(Scenario s, Variant v) {
        try (ScenarioRun run = s.open(v); Trainer t = run.newTrainer()) {
            FlowReport r = FlowCheck.builder().batches(2).build().run(t, run.dataset());
            System.out.println(s.name() + " " + v + "\n" + r.text());
            return r;
        }
    }

    @Test
    void badInitIsOutOfRangeWithDepthAndHeInitIsNot() {
        FlowReport bad = check(new BadInitScenario(), Variant.EXPLODING);
        FlowReport he = check(new BadInitScenario(), Variant.REFERENCE);
        assertThat(bad.layers()).hasSize(17);
        assertThat(bad.activations()).hasSize(33);
        // twice He's variance: the signal grows by about sqrt(2) a layer both ways
        assertThat(bad.activationGrowthPerLayer()).isBetween(1.3, 1.6);
        assertThat(bad.gradGrowthPerLayer()).isBetween(1.2, 1.6);
        assertThat(bad.gradCompound()).isGreaterThan(FlowReport.COMPOUND_MAX);
        assertThat(bad.has(Kind.ACTIVATIONS_GROW)).isTrue();
        assertThat(bad.has(Kind.GRADIENTS_GROW)).isTrue();
        assertThat(bad.has(Kind.UPDATE_TOO_LARGE)).isTrue();
        assertThat(bad.firstOutOfRange()).contains("15Linear");
        assertThat(he.activationGrowthPerLayer()).isBetween(0.9, 1.1);
        assertThat(he.gradCompound()).isBetween(FlowReport.COMPOUND_MIN, FlowReport.COMPOUND_MAX);
        assertThat(he.healthy()).as(he.text()).isTrue();
        assertThat(bad.passes()).isEqualTo(2);
        assertThat(bad.millis()).isGreaterThanOrEqualTo(0);
    }

    @Test
    void theCheckTakesNoStepAndLeavesNoGradient() {
        try (ScenarioRun run = new BadInitScenario().open(Variant.EXPLODING); Trainer t = run.newTrainer()) {
            GradientInspector insp = new GradientInspector(t);
            float[] before = insp.copies(0)[0].toFloatArray();
            FlowReport r = FlowCheck.builder().build().run(t, run.dataset());
            assertThat(r.passes()).isEqualTo(1);
            assertThat(r.layers().get(0).gradNorm()).isGreaterThan(0);
            assertThat(insp.copies(0)[0].toFloatArray()).isEqualTo(before);
            double[] grads = insp.measure(null, false).gradNorms();
            assertThat(grads).containsOnly(0.0);
        }
    }

    @Test
    void featureScaleMismatchShowsInTheInputColumnsOnly() {
        FlowReport bad = check(new FeatureScaleScenario(), Variant.EXPLODING);
        FlowReport ok = check(new FeatureScaleScenario(), Variant.REFERENCE);
        assertThat(bad.inputColumnSpread()).isGreaterThan(FlowReport.INPUT_SPREAD_MAX);
        assertThat(bad.firstOutOfRange()).contains("input");
        assertThat(ok.inputColumnSpread()).isLessThan(2);
        assertThat(ok.has(Kind.INPUT_SCALE)).isFalse();
    }

    @Test
    void textAndJsonCarryEveryLayer() throws Exception {
        FlowReport r = check(new FeatureScaleScenario(), Variant.EXPLODING);
        assertThat(r.text()).contains("01Linear_weight").contains("first out of range: input");
        JsonNode j = new ObjectMapper().readTree(r.toJson().toString());
        assertThat(j.get("layers")).hasSize(4);
        assertThat(j.get("layers").get(3).get("name").asText()).isEqualTo("07Linear_weight");
        assertThat(j.get("findings").get(0).get("kind").asText()).isEqualTo("input_scale");
        assertThat(j.get("first_out_of_range").asText()).isEqualTo("input");
    }

    @Test
    void badSettingsNameTheValueAndTheRange() {
        assertThatThrownBy(() -> FlowCheck.builder().batches(0)).hasMessageContaining("batches: 0 is outside [1, 64]");
        assertThatThrownBy(() -> FlowCheck.builder().learningRate(-1)).hasMessageContaining("learningRate: -1.0");
    }
}
