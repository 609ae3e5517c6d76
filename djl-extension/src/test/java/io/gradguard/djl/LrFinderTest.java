package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.training.Trainer;
import io.gradguard.djl.internal.GradientInspector;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import org.junit.jupiter.api.Test;

/**
 * The LR range test on the real engine: it finds where the deep MLP diverges, its suggestion trains
 * while the divergence rate explodes (both shown here, unguarded), and it leaves the trainer exactly as
 * it found it.
 */
class LrFinderTest {

    private static float[][] params(Trainer t) {
        GradientInspector insp = new GradientInspector(t);
        float[][] out = new float[insp.size()][];
        for (int i = 0; i < insp.size(); i++) {
            out[i] = insp.copies(i)[0].toFloatArray();
        }
        return out;
    }

    /** Trains the scenario unguarded at a learning rate; returns the evaluation loss. */
    private static float train(Scenario s, float lr) {
        try (ScenarioRun run = s.open(Variant.REFERENCE, lr); Trainer t = run.newTrainer()) {
            run.trainByHand(t, (tr, loss) -> tr.step());
            return run.evalLoss(t);
        }
    }

    @Test
    void findsTheDivergenceAndASafeRateAndRestoresEverything() {
        Scenario s = new DeepMlpScenario();
        float plain;
        float afterSweep;
        LrFinder.Result r;
        try (ScenarioRun run = s.open(Variant.REFERENCE); Trainer t = run.newTrainer()) {
            float[][] before = params(t);
            r = LrFinder.builder().minLr(1e-5).maxLr(10).steps(80).build().run(t, run.dataset());
            assertThat(params(t)).as("parameters restored bit for bit").isDeepEqualTo(before);
            run.trainByHand(t, (tr, loss) -> tr.step());
            afterSweep = run.evalLoss(t);
        }
        try (ScenarioRun run = s.open(Variant.REFERENCE); Trainer t = run.newTrainer()) {
            run.trainByHand(t, (tr, loss) -> tr.step());
            plain = run.evalLoss(t);
        }
        System.out.println(r);
        assertThat(afterSweep).as("training after the sweep is the training without it (optimizer state restored)")
                .isEqualTo(plain);
        assertThat(r.divergenceLr()).isFinite();
        // the documented rule, and a sweep that found this model's region: the lowest loss lies near the tuned
        // rate, and the divergence well above it (5x already explodes over a full run)
        assertThat(r.suggestedLr()).isEqualTo(r.minLossLr() / 10);
        double tuned = s.learningRate(Variant.REFERENCE);
        assertThat(r.minLossLr()).as("rate of the lowest loss vs tuned %s", tuned).isBetween(0.25 * tuned, 4 * tuned);
        assertThat(r.divergenceLr()).as("divergence vs tuned %s", tuned).isBetween(2 * tuned, 100 * tuned);
        float atSuggested = train(s, (float) r.suggestedLr());
        float atDivergence = train(s, (float) r.divergenceLr());
        float reference = train(s, s.learningRate(Variant.REFERENCE));
        System.out.printf("eval loss: reference %.4f, suggested %.4f, divergence %.4f%n", reference, atSuggested, atDivergence);
        // the rule of thumb is deliberately conservative (a tenth of the best rate): stable, somewhat slower
        assertThat(atSuggested).isFinite().isLessThan(3 * reference);
        assertThat(!Float.isFinite(atDivergence) || atDivergence > 10 * reference).as("the divergence rate explodes").isTrue();
    }

    @Test
    void badSettingsNameTheValueAndTheRange() {
        assertThatThrownBy(() -> LrFinder.builder().minLr(-1)).hasMessageContaining("minLr: -1.0");
        assertThatThrownBy(() -> LrFinder.builder().steps(3)).hasMessageContaining("[10, 100000]");
        assertThatThrownBy(() -> LrFinder.builder().minLr(1).maxLr(0.1).build()).hasMessageContaining("must be below");
    }
}
