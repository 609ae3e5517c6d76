package io.gradguard.djl.doctor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gradguard.models.BadInitScenario;
import io.gradguard.models.FeatureScaleScenario;
import io.gradguard.models.SafeOps;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The doctor on the real engine: it repairs the zoo's bad initialization (the unfixed net explodes in the same test),
 * finds input standardization for the feature-scale mismatch, and leaves a healthy model alone.
 */
class DoctorTest {

    static final Shape IN = new Shape(32, 16);

    /** The scenarios' optimizer: SGD, momentum 0.9, fixed rate, L2 loss. */
    static DefaultTrainingConfig config(double lr) {
        return new DefaultTrainingConfig(SafeOps.l2Loss()).optOptimizer(Optimizer.sgd()
                .setLearningRateTracker(Tracker.fixed((float) lr)).optMomentum(0.9f).build());
    }

    /** A fresh, uninitialized block of a scenario variant. */
    static Supplier<Block> blocks(Scenario s, Variant v) {
        return () -> {
            try (ScenarioRun r = s.open(v)) {
                return r.model().getBlock();
            }
        };
    }

    static DoctorResult consult(Scenario s, Variant v, ScenarioRun run, int budget, Path record) {
        Doctor.Builder b = Doctor.builder().model(blocks(s, v)).config(DoctorTest::config)
                .learningRate(s.learningRate(v)).data(run.dataset()).inputShape(IN).plannedSteps(s.steps())
                .budgetSteps(budget).lrFinderSteps(40);
        if (record != null) {
            b.record(record);
        }
        DoctorResult r = b.build().run();
        System.out.println(s.name() + " " + v + "\n" + r.text());
        return r;
    }

    /** Trains a block on the run's data for some steps by hand; returns the evaluation loss. */
    static float train(ScenarioRun run, Block block, int steps) {
        if (block != null) {
            run.model().setBlock(block);
        }
        try (Trainer t = run.newTrainer()) {
            run.trainByHand(t, (tr, loss) -> tr.step(), steps);
            return run.evalLoss(t);
        }
    }

    @Test
    void repairsTheBadInitializationThatExplodesUnfixed(@TempDir Path dir) throws Exception {
        Scenario s = new BadInitScenario();
        Path record = dir.resolve("doctor.json");
        DoctorResult r;
        try (ScenarioRun run = s.open(Variant.EXPLODING)) {
            r = consult(s, Variant.EXPLODING, run, 60, record);
        }
        assertThat(r.noChangeNeeded()).isFalse();
        assertThat(r.chosen().fixes()).containsAnyOf("he-init", "layer-norm");
        assertThat(r.prescription()).anyMatch(l -> l.contains("He normal") || l.contains("LayerNorm"));
        assertThat(r.trials().get(r.trials().size() - 1).finite() ? 0 : 1).as("something diverged").isEqualTo(1);
        assertThat(r.flowBefore().gradCompound()).isGreaterThan(FlowReport.COMPOUND_MAX);
        assertThat(r.flowAfter().gradCompound()).isBetween(FlowReport.COMPOUND_MIN, FlowReport.COMPOUND_MAX);
        assertThat(r.trialSteps()).isLessThanOrEqualTo(60);
        int steps = 60;
        float unfixed;
        float fixed;
        try (ScenarioRun run = s.open(Variant.EXPLODING)) {
            unfixed = train(run, null, steps);
        }
        try (ScenarioRun run = s.open(Variant.EXPLODING)) {
            fixed = train(run, r.fixedBlock(run.model().getNDManager()), steps);
        }
        System.out.printf("bad init, %d steps: unfixed %s, doctor's pick (%s) %s%n", steps, unfixed, r.chosen().name(), fixed);
        assertThat(!Float.isFinite(unfixed) || unfixed > 100 * fixed).as("unfixed %s explodes", unfixed).isTrue();
        assertThat(fixed).isFinite().isLessThan(1f);
        JsonNode j = new ObjectMapper().readTree(Files.readString(record));
        assertThat(j.get("type").asText()).isEqualTo("doctor");
        assertThat(j.get("no_change_needed").asBoolean()).isFalse();
        assertThat(j.get("trials")).hasSize(r.trials().size());
        assertThat(j.get("trials").get(0).get("losses").size()).isEqualTo(r.stepsPerTrial());
        assertThat(j.get("budget").get("trial_steps").asInt()).isEqualTo(r.trialSteps());
        assertThat(j.get("flow_before").get("layers")).hasSize(17);
        assertThat(j.get("flow_after").get("findings").toString()).doesNotContain("gradients_grow");
        assertThat(j.get("chosen").get("name").asText()).isEqualTo(r.chosen().name());
    }

    @Test
    void findsInputStandardizationForTheFeatureScaleMismatch() {
        Scenario s = new FeatureScaleScenario();
        DoctorResult r;
        try (ScenarioRun run = s.open(Variant.EXPLODING)) {
            r = consult(s, Variant.EXPLODING, run, 120, null);
        }
        assertThat(r.noChangeNeeded()).isFalse();
        assertThat(r.chosen().fixes()).contains("standardize-inputs");
        assertThat(r.prescription()).anyMatch(l -> l.contains("standardize every input column"));
        int steps = s.steps();
        float unfixed;
        float fixed;
        try (ScenarioRun run = s.open(Variant.EXPLODING)) {
            unfixed = train(run, null, steps);
        }
        try (ScenarioRun run = s.open(Variant.EXPLODING)) {
            fixed = train(run, r.fixedBlock(run.model().getNDManager()), steps);
        }
        System.out.printf("feature scale, %d steps: unfixed %s, doctor's pick (%s) %s%n", steps, unfixed, r.chosen().name(), fixed);
        assertThat(!Float.isFinite(unfixed) || unfixed > 10 * fixed).as("unfixed %s explodes", unfixed).isTrue();
        assertThat(fixed).isFinite();
    }

    @Test
    void saysNoChangeNeededOnAHealthyModel() {
        Scenario s = new BadInitScenario();
        DoctorResult r;
        try (ScenarioRun run = s.open(Variant.REFERENCE)) {
            r = consult(s, Variant.REFERENCE, run, 30, null);
        }
        assertThat(r.flowBefore().healthy()).isTrue();
        assertThat(r.noChangeNeeded()).isTrue();
        assertThat(r.chosen().name()).isEqualTo("as-is");
        assertThat(r.prescription()).singleElement().asString().startsWith("no change needed");
        assertThat(r.warmUpSteps()).isZero();
    }

    /**
     * A model that cannot learn at all (no biases, every weight zero: every gradient is exactly zero, and DJL's
     * {@code Trainer.step()} refuses to step it): its trial counts as failed instead of ending the consultation.
     */
    @Test
    void aDeadModelsTrialFailsWithoutEndingTheConsultation() {
        Scenario s = new BadInitScenario();
        Supplier<Block> dead = () -> {
            ai.djl.nn.SequentialBlock b = new ai.djl.nn.SequentialBlock();
            for (int i = 0; i < 3; i++) {
                b.add(ai.djl.nn.core.Linear.builder().setUnits(16).optBias(false).build()).add(ai.djl.nn.Activation::relu);
            }
            b.add(ai.djl.nn.core.Linear.builder().setUnits(1).optBias(false).build());
            b.setInitializer(ai.djl.training.initializer.Initializer.ZEROS, ai.djl.nn.Parameter.Type.WEIGHT);
            return b;
        };
        DoctorResult r;
        try (ScenarioRun run = s.open(Variant.REFERENCE)) {
            r = Doctor.builder().model(dead).config(DoctorTest::config).learningRate(0.01).data(run.dataset())
                    .inputShape(IN).plannedSteps(300).budgetSteps(30).lrFinderSteps(20).build().run();
        }
        Trial asIs = r.trials().stream().filter(t -> t.name().equals("as-is")).findFirst().orElseThrow();
        assertThat(asIs.finite()).as("the dead model's own trial").isFalse();
        assertThat(r.noChangeNeeded()).isFalse();
    }

    @Test
    void aMissingSettingIsNamed() {
        assertThatThrownBy(() -> Doctor.builder().learningRate(0.1).build()).hasMessageContaining("model is required");
        assertThatThrownBy(() -> Doctor.builder().plannedSteps(0)).hasMessageContaining("plannedSteps: 0 is outside");
        assertThatThrownBy(() -> Doctor.builder().margin(2)).hasMessageContaining("margin: 2.0 is outside [0, 1]");
        assertThatThrownBy(() -> Doctor.builder().changeMargin(-1))
                .hasMessageContaining("Doctor.builder().changeMargin: -1.0 is outside [0, 10]");
        assertThatThrownBy(() -> Doctor.builder().stuckMargin(Double.NaN))
                .hasMessageContaining("Doctor.builder().stuckMargin: NaN is outside [0, 10]");
        assertThatThrownBy(() -> Doctor.builder().cellSwapMargin(11))
                .hasMessageContaining("Doctor.builder().cellSwapMargin: 11.0 is outside [0, 10]");
    }
}
