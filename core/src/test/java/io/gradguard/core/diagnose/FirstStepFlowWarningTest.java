package io.gradguard.core.diagnose;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The first-step warning's bands and words, shared by the DJL and the TensorFlow guard. */
class FirstStepFlowWarningTest {

    @Test
    void theCompoundBandIsAHundredfoldEitherWay() {
        assertThat(FirstStepFlowWarning.compoundFinding(1.5, 99, 12, "layers")).isNull();
        assertThat(FirstStepFlowWarning.compoundFinding(0.7, 0.011, 12, "layers")).isNull();
        assertThat(FirstStepFlowWarning.compoundFinding(1.6, 180, 12, "layers"))
                .startsWith("the weight gradients' size grows x1.60 per layer").contains("x180 over 12 layers")
                .endsWith("they explode on their way back");
        assertThat(FirstStepFlowWarning.compoundFinding(0.6, 0.002, 9, "weights")).contains("shrinks x0.600")
                .contains("over 9 weights").endsWith("they vanish on their way back");
        assertThat(FirstStepFlowWarning.compoundFinding(Double.NaN, Double.NaN, 3, "layers")).isNull();
    }

    @Test
    void anUpdateLargerThanItsWeightIsTooLargeAndTheFindingSaysWhatIsKnown() {
        assertThat(FirstStepFlowWarning.updateTooLarge(1.0)).isFalse();
        assertThat(FirstStepFlowWarning.updateTooLarge(1.01)).isTrue();
        assertThat(FirstStepFlowWarning.updateFinding("w3", 2.5, "SGD: lr*||g||/||w||", 2, 5, 0.3))
                .isEqualTo("the first update moves w3 by 2.50x its norm (SGD: lr*||g||/||w||; warned above 1.00), 2 of 5"
                        + " weights above: the learning rate 0.300 is too high for the model as it is initialized");
        assertThat(FirstStepFlowWarning.updateFinding("w3", 2.5, null, 2, 5, Double.NaN))
                .contains("its norm (warned above 1.00)").contains("the learning rate is too high");
    }

    @Test
    void theMessageStartsWithTheWarningAndIsNullWithoutFindings() {
        assertThat(FirstStepFlowWarning.message(List.of(), "see the doctor")).isNull();
        assertThat(FirstStepFlowWarning.message(List.of("a", "b"), "see the doctor"))
                .isEqualTo(FirstStepFlowWarning.WARNING + ": a; b. see the doctor");
    }
}
