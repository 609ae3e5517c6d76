package io.gradguard.djl.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gradguard.models.AttentionWarmupScenario;
import io.gradguard.models.SafeOps;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The doctor's learning-rate warm-up trial on the real engine: on {@code attention-no-warmup} (Adam at 0.1 from the
 * first step) it prescribes a linear warm-up, and the warmed-up trial beats the model trained as it is on the same
 * batches from the same seed.
 */
class DoctorWarmUpTest {

    static final Shape SEQ_IN = new Shape(32, 20, 2);

    /** The attention scenario's optimizer at a fixed rate: Adam, L2 loss. */
    static DefaultTrainingConfig adam(double lr) {
        return new DefaultTrainingConfig(SafeOps.l2Loss())
                .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed((float) lr)).build());
    }

    static DoctorResult consult(int lrFinderSteps, Path record) {
        Scenario s = new AttentionWarmupScenario();
        try (ScenarioRun run = s.open(Variant.EXPLODING)) {
            Doctor.Builder b = Doctor.builder().model(DoctorTest.blocks(s, Variant.EXPLODING))
                    .config(DoctorWarmUpTest::adam).learningRate(s.learningRate(Variant.EXPLODING)).data(run.dataset())
                    .inputShape(SEQ_IN).plannedSteps(s.steps()).budgetSteps(120).lrFinderSteps(lrFinderSteps);
            if (record != null) {
                b.record(record);
            }
            DoctorResult r = b.build().run();
            System.out.println(s.name() + ", range test " + lrFinderSteps + " steps\n" + r.text());
            return r;
        }
    }

    @Test
    void atYourRatePrescribesAWarmUpForAttentionWithoutOneAndTheWarmedUpTrialBeatsTheUnfixedOne(@TempDir Path dir)
            throws Exception {
        Path record = dir.resolve("doctor.json");
        DoctorResult r = consult(0, record);
        assertThat(Doctor.warmUpCalledFor(r.flowBefore())).as("Adam").isTrue();
        assertThat(r.flowBefore().has(FlowReport.Kind.UPDATE_TOO_LARGE)).isTrue();
        Trial asIs = trial(r, "as-is");
        Trial warm = trial(r, "warmup");
        assertThat(warm.warmUpSteps()).isBetween(2, r.stepsPerTrial());
        assertThat(warm.finite()).isTrue();
        assertThat(!asIs.finite() || asIs.finalLoss() > 10 * warm.finalLoss())
                .as("as-is %s vs warm-up %s", asIs.finalLoss(), warm.finalLoss()).isTrue();
        assertThat(r.noChangeNeeded()).isFalse();
        assertThat(r.chosen().name()).isEqualTo("warmup");
        assertThat(r.warmUpSteps()).isEqualTo(40);
        assertThat(r.prescription()).anyMatch(l -> l.startsWith("warm up the learning rate linearly over 40 steps"));
        assertThat(r.flowAfter().has(FlowReport.Kind.UPDATE_TOO_LARGE)).as("first update at lr/40").isFalse();
        JsonNode j = new ObjectMapper().readTree(Files.readString(record));
        assertThat(j.get("warmup_steps").asInt()).isEqualTo(40);
        assertThat(j.get("chosen").get("warmup_steps").asInt()).isEqualTo(40);
        assertThat(j.get("trials").findValuesAsText("name")).contains("warmup", "as-is");
    }

    /**
     * With the range test on, its lower rate beats a warm-up at 0.1 over such short trials; but at that rate the
     * first update of one weight is still too large, so the warm-up is prescribed to the new rate. The flow check
     * after it shows every first update in range.
     */
    @Test
    void withTheRangeTestTheLowerRateIsPrescribedWithAWarmUpToIt() {
        DoctorResult r = consult(40, null);
        Trial asIs = trial(r, "as-is");
        Trial warm = trial(r, "warmup");
        Trial lr = trial(r, "lr");
        assertThat(!asIs.finite() || asIs.finalLoss() > 10 * warm.finalLoss()).isTrue();
        assertThat(r.chosen().name()).isEqualTo("lr");
        assertThat(r.chosen().finalLoss()).isLessThanOrEqualTo(Math.min(lr.finalLoss(), warm.finalLoss()) * 1.1);
        assertThat(r.chosen().learningRate()).isLessThan(0.1);
        assertThat(r.warmUpSteps()).isEqualTo(40);
        assertThat(r.prescription()).anyMatch(l -> l.startsWith("lr = "));
        assertThat(r.prescription()).anyMatch(l -> l.startsWith("warm up the learning rate linearly over 40 steps")
                && l.contains(String.format(java.util.Locale.ROOT, "from 0 to %.3g", r.chosen().learningRate())));
        assertThat(r.flowAfter().has(FlowReport.Kind.UPDATE_TOO_LARGE)).as("first update at the new rate / 40").isFalse();
    }

    static Trial trial(DoctorResult r, String name) {
        return r.trials().stream().filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no trial " + name + " in " + r.trials()));
    }
}
