package io.gradguard.djl.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The doctor's choice rule on hand-made trials (no engine: the rule is arithmetic on the trials' losses; the real-engine
 * consultations are in {@link DoctorTest}): a change to a model that trains must be called for by the flow check and
 * must end below the model as it is divided by {@code 1 + changeMargin}.
 */
class TrialChoiceTest {

    private static final double LR = 0.01;

    private static FlowReport flow(boolean outOfRange) {
        List<FlowReport.Finding> findings = outOfRange
                ? List.of(new FlowReport.Finding(FlowReport.Kind.GRADIENTS_SHRINK, "03Linear", "x0.05 over the depth"))
                : List.of();
        return new FlowReport(List.of(), List.of(), 1, 1, 1, 1, 1, "SGD", LR, findings, 1, 1);
    }

    private static Trial trial(String name, double loss, String... fixes) {
        return new Trial(name, List.of(fixes), LR, List.of(1.0, loss), loss, false);
    }

    @Test
    void aWorkingModelIsChangedOnlyWhenTheBestTrialEndsBelowAThirdOfItByDefault() {
        // the healthy twin s1038's trials on the tuning split: LayerNorm ended at half the model as it is in a 3-step
        // trial, and the full run with it ended 2.05x worse
        List<Trial> halved = List.of(trial("as-is", 0.4925), trial("layer-norm", 0.2455, "layer-norm"));
        assertThat(TrialChoice.of(halved, flow(true), LR, 0.1, Doctor.DEFAULT_CHANGE_MARGIN).noChange()).isTrue();
        assertThat(TrialChoice.of(halved, flow(true), LR, 0.1, 0.5).chosen().name()).isEqualTo("layer-norm");
        // s1005's: Fixup ended at a seventh; it helped the full run (0.74x)
        List<Trial> seventh = List.of(trial("as-is", 17.15), trial("fixup-zero", 2.465, "fixup-zero"));
        TrialChoice c = TrialChoice.of(seventh, flow(true), LR, 0.1, Doctor.DEFAULT_CHANGE_MARGIN);
        assertThat(c.noChange()).isFalse();
        assertThat(c.chosen().name()).isEqualTo("fixup-zero");
        assertThat(TrialChoice.of(halved, flow(true), LR, 0.1, Doctor.DEFAULT_CHANGE_MARGIN).why())
                .contains("no more than 3.00x the best trial (layer-norm");
    }

    @Test
    void aChangeMustBeCalledForAndADivergedModelNeedsNoMargin() {
        List<Trial> seventh = List.of(trial("as-is", 17.15), trial("fixup-zero", 2.465, "fixup-zero"));
        TrialChoice quiet = TrialChoice.of(seventh, flow(false), LR, 0.1, Doctor.DEFAULT_CHANGE_MARGIN);
        assertThat(quiet.noChange()).isTrue();
        assertThat(quiet.why()).startsWith("the flow check found nothing out of range");
        List<Trial> diverged = List.of(new Trial("as-is", List.of(), LR, List.of(1.0, Double.NaN), Double.NaN, true),
                trial("he-init", 0.9, "he-init"));
        assertThat(TrialChoice.of(diverged, flow(false), LR, 0.1, Doctor.DEFAULT_CHANGE_MARGIN).chosen().name())
                .isEqualTo("he-init");
    }
}
