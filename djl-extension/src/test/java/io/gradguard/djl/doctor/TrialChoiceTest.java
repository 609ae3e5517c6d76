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
        return flow(outOfRange ? List.of(FlowReport.Kind.ACTIVATIONS_SHRINK, FlowReport.Kind.GRADIENTS_SHRINK) : List.of());
    }

    private static FlowReport flow(List<FlowReport.Kind> kinds) {
        List<FlowReport.Finding> findings = kinds.stream()
                .map(k -> new FlowReport.Finding(k, "03Linear", "x0.05 over the depth")).toList();
        return new FlowReport(List.of(), List.of(), 1, 1, 1, 1, 1, "SGD", LR, findings, 1, 1);
    }

    private static Trial trial(String name, double loss, String... fixes) {
        return curve(name, 1.0, loss, fixes);
    }

    /** A trial whose first step's loss is {@code first} and whose loss after the trial is {@code last}. */
    private static Trial curve(String name, double first, double last, String... fixes) {
        return new Trial(name, List.of(fixes), LR, List.of(first, last), last, false);
    }

    private static final java.util.Map<String, StructureFix> FIXES = java.util.Map.of("he-init", ReInitialize.he(),
            "fixup-zero", Fixup.zeroInit(), "layer-norm", new InsertLayerNorm(), "rnn-to-gru", SwapRecurrentCell.gru(),
            "orthogonal-recurrent-init", ReInitialize.orthogonalRecurrent(), "lsuv", new Lsuv());

    /** @return each trial's fixes, looked up by name in {@link #FIXES} */
    private static List<List<StructureFix>> recipes(List<Trial> trials) {
        return trials.stream().map(t -> t.fixes().stream().map(FIXES::get).toList()).toList();
    }

    private static TrialChoice choose(List<Trial> trials, boolean outOfRange, double changeMargin) {
        return choose(trials, outOfRange, changeMargin, true);
    }

    private static TrialChoice choose(List<Trial> trials, boolean outOfRange, double changeMargin, boolean stuckReinit) {
        List<List<StructureFix>> recipes = recipes(trials);
        // the cell-swap rule off, as the doctor's default
        return TrialChoice.of(trials, recipes, flow(outOfRange), LR, 0.1, changeMargin,
                stuckReinit ? Doctor.DEFAULT_STUCK_MARGIN : Double.NaN, Double.NaN);
    }

    @Test
    void aWorkingModelIsChangedOnlyWhenTheBestTrialEndsBelowAThirdOfItByDefault() {
        // the healthy twin s1038's trials on the tuning split: LayerNorm ended at half the model as it is in a 3-step
        // trial, and the full run with it ended 2.05x worse
        List<Trial> halved = List.of(trial("as-is", 0.4925), trial("layer-norm", 0.2455, "layer-norm"));
        assertThat(choose(halved, true, Doctor.DEFAULT_CHANGE_MARGIN).noChange()).isTrue();
        assertThat(choose(halved, true, 0.5).chosen().name()).isEqualTo("layer-norm");
        // s1005's: Fixup ended at a seventh; it helped the full run (0.74x)
        List<Trial> seventh = List.of(trial("as-is", 17.15), trial("fixup-zero", 2.465, "fixup-zero"));
        TrialChoice c = choose(seventh, true, Doctor.DEFAULT_CHANGE_MARGIN);
        assertThat(c.noChange()).isFalse();
        assertThat(c.chosen().name()).isEqualTo("fixup-zero");
        assertThat(choose(halved, true, Doctor.DEFAULT_CHANGE_MARGIN).why())
                .contains("no more than 3.00x the best trial (layer-norm");
    }

    @Test
    void aChangeMustBeCalledForAndADivergedModelNeedsNoMargin() {
        List<Trial> seventh = List.of(trial("as-is", 17.15), trial("fixup-zero", 2.465, "fixup-zero"));
        TrialChoice quiet = choose(seventh, false, Doctor.DEFAULT_CHANGE_MARGIN);
        assertThat(quiet.noChange()).isTrue();
        assertThat(quiet.why()).startsWith("the flow check found nothing out of range");
        List<Trial> diverged = List.of(new Trial("as-is", List.of(), LR, List.of(1.0, Double.NaN), Double.NaN, true),
                trial("he-init", 0.9, "he-init"));
        assertThat(choose(diverged, false, Doctor.DEFAULT_CHANGE_MARGIN).chosen().name())
                .isEqualTo("he-init");
    }

    private static TrialChoice chooseStuck(List<Trial> trials, double stuckMargin) {
        List<List<StructureFix>> recipes = recipes(trials);
        return TrialChoice.of(trials, recipes, flow(true), LR, 0.1, Doctor.DEFAULT_CHANGE_MARGIN, stuckMargin, Double.NaN);
    }

    /** The tuning split's structural s1005 (a 12-layer ReLU MLP of width 64, LeCun initialization), its trials. */
    private static List<Trial> s1005() {
        return List.of(curve("as-is", 1.7910, 1.7873), curve("layer-norm", 1.7788, 1.6188, "layer-norm"),
                curve("lsuv", 1.8314, 1.6804, "lsuv"), curve("he-init", 2.4920, 1.6977, "he-init"));
    }

    @Test
    void aStuckModelWithDepthTroubleGetsTheBestReInitializationThatLeadsByTheStuckMargin() {
        // as it is 1.791 -> 1.787 in its trial; LSUV leads it by 6.4% (followed for the planned steps: 0.539, the He
        // fix 0.526, unfixed 1.039)
        TrialChoice c = choose(s1005(), true, Doctor.DEFAULT_CHANGE_MARGIN);
        assertThat(c.chosen().name()).as("the re-initialization, not the better-ranked LayerNorm").isEqualTo("lsuv");
        assertThat(c.stuck()).isTrue();
        assertThat(c.noChange()).isFalse();
        assertThat(c.changeWhy()).startsWith("the model as it is did not learn in its trial (loss 1.791 at the first step,"
                + " 1.787 after)").endsWith("the re-initialization ended at 1.680");
        // without depth trouble, or when the re-initialization does not end lower, or with the rule off, the model is
        // left as it is
        assertThat(choose(s1005(), false, Doctor.DEFAULT_CHANGE_MARGIN).noChange()).isTrue();
        assertThat(choose(s1005(), true, Doctor.DEFAULT_CHANGE_MARGIN, false).noChange()).isTrue();
        List<Trial> worse = List.of(curve("as-is", 1.946, 1.944), curve("he-init", 2.060, 1.950, "he-init"));
        assertThat(choose(worse, true, Doctor.DEFAULT_CHANGE_MARGIN).noChange()).isTrue();
    }

    @Test
    void aLeadWithinAShortTrialsNoiseDoesNotReInitializeAStuckModel() {
        // the tuning split's healthy s1000 (a 13-layer ReLU MLP of width 16, LeCun initialization, at its oracle rate):
        // as it is 1.946 -> 1.942, He 1.896, a 2.4% lead. At margin 0 (the rule's first form) He was prescribed
        // (followed, it ended 0.85x, yet a change to a healthy model all the same); at the default 5% it is not
        List<Trial> s1000 = List.of(curve("as-is", 1.946, 1.942), curve("he-init", 2.06, 1.896, "he-init"));
        assertThat(chooseStuck(s1000, 0).stuck()).isTrue();
        assertThat(chooseStuck(s1000, Doctor.DEFAULT_STUCK_MARGIN).noChange()).isTrue();
        // the margin is strict: s1005's 6.4% lead passes 5%, not 10% (the sweep's 0.1 lost it)
        assertThat(chooseStuck(s1005(), 0.05).chosen().name()).isEqualTo("lsuv");
        assertThat(chooseStuck(s1005(), 0.1).noChange()).isTrue();
        assertThat(chooseStuck(List.of(curve("as-is", 1.0, 1.05), curve("he-init", 1.1, 1.0, "he-init")), 0.05)
                .noChange()).as("exactly 5%% is not more than 5%%").isTrue();
    }

    @Test
    void aBackwardSignalShrinkingAloneDoesNotMakeAModelStuck() {
        // the tuning split's healthy s1137 (a conv net, LeCun initialization): the flow check finds only the backward
        // signal shrinking; as it is 1.382 -> 1.403 in its trial, He 1.390; followed for the planned steps He ended 2.06x
        List<Trial> trials = List.of(curve("as-is", 1.382, 1.403), curve("he-init", 1.4, 1.390, "he-init"));
        // (stuck margin 0 here, so that only the flow check decides: He's 0.9% lead is within the default's 5% too)
        List<List<StructureFix>> recipes = recipes(trials);
        TrialChoice gradientsOnly = TrialChoice.of(trials, recipes, flow(List.of(FlowReport.Kind.GRADIENTS_SHRINK)), LR,
                0.1, Doctor.DEFAULT_CHANGE_MARGIN, 0, Double.NaN);
        assertThat(gradientsOnly.noChange()).isTrue();
        assertThat(chooseStuck(trials, 0).stuck()).as("both ways found").isTrue();
        assertThat(chooseStuck(trials, Doctor.DEFAULT_STUCK_MARGIN).noChange()).isTrue();
    }

    @Test
    void aModelThatLearnsIsNotStuck() {
        // the tuning split's healthy s1053 (GELU MLP, Xavier): as it is 0.965 -> 0.720 in its trial, He 0.710; followed
        // for the planned steps He ended far worse, so a model that learns keeps the margin
        List<Trial> learning = List.of(curve("as-is", 0.965, 0.720), curve("he-init", 1.007, 0.710, "he-init"));
        TrialChoice c = choose(learning, true, Doctor.DEFAULT_CHANGE_MARGIN);
        assertThat(c.noChange()).isTrue();
        assertThat(c.stuck()).isFalse();
        // one percent lower than its first step's loss is learning; less is not
        assertThat(choose(List.of(curve("as-is", 1.0, 0.989), curve("he-init", 1.0, 0.9, "he-init")), true,
                Doctor.DEFAULT_CHANGE_MARGIN).noChange()).isTrue();
        assertThat(choose(List.of(curve("as-is", 1.0, 0.991), curve("he-init", 1.0, 0.9, "he-init")), true,
                Doctor.DEFAULT_CHANGE_MARGIN).stuck()).isTrue();
    }

    private static TrialChoice chooseSwap(List<Trial> trials, double cellSwapMargin) {
        List<List<StructureFix>> recipes = recipes(trials);
        return TrialChoice.of(trials, recipes, flow(false), LR, 0.1, Doctor.DEFAULT_CHANGE_MARGIN, Doctor.DEFAULT_STUCK_MARGIN,
                cellSwapMargin);
    }

    @Test
    void aVanillaCellIsSwappedByItsOwnMarginWithoutAFlowFindingWhenTheRuleIsOn() {
        // the tuning split's structural s1096 (a tanh RNN on sums of 16 steps, Adam): the flow check finds nothing, the
        // GRU ends its trial at a third of the model as it is; followed for the planned steps it ends 3.2x lower. The
        // rule is off by default (Doctor.cellSwap): on the tuning split no margin raised the structural count
        List<Trial> third = List.of(trial("as-is", 0.6295), trial("orthogonal-recurrent-init", 0.6301,
                "orthogonal-recurrent-init"), trial("rnn-to-gru", 0.2039, "rnn-to-gru"));
        TrialChoice c = chooseSwap(third, Doctor.DEFAULT_CELL_SWAP_MARGIN);
        assertThat(c.chosen().name()).isEqualTo("rnn-to-gru");
        assertThat(c.swapped()).isTrue();
        assertThat(c.stuck()).isFalse();
        assertThat(c.changeWhy()).startsWith("a vanilla recurrent cell cannot learn to keep its gradient through time")
                .endsWith("the swap ended its trial at 0.2039, the model as it is at 0.6295");
        // with the rule off (the default), the change margin alone asks for a flow finding: no change
        assertThat(chooseSwap(third, Double.NaN).noChange()).isTrue();
        assertThat(choose(third.subList(0, 1), false, Doctor.DEFAULT_CHANGE_MARGIN).noChange()).isTrue();
        // the swap with an orthogonal re-initialization counts; a swap at another rate does not
        List<Trial> withInit = List.of(trial("as-is", 0.6295), trial("rnn-to-gru+orthogonal-recurrent-init", 0.2,
                "rnn-to-gru", "orthogonal-recurrent-init"));
        assertThat(chooseSwap(withInit, Doctor.DEFAULT_CELL_SWAP_MARGIN).chosen().name())
                .isEqualTo("rnn-to-gru+orthogonal-recurrent-init");
        List<Trial> otherRate = List.of(trial("as-is", 0.6295), new Trial("rnn-to-gru+lr", List.of("rnn-to-gru"), LR / 4,
                List.of(1.0, 0.2), 0.2, false));
        assertThat(chooseSwap(otherRate, Doctor.DEFAULT_CELL_SWAP_MARGIN).noChange()).isTrue();
    }

    @Test
    void aSwapThatDoesNotLeadByItsMarginIsNotMade() {
        // the tuning split's structural s1014 (a tanh RNN on 16-step sequences, 4 classes): the GRU ends its trial a
        // little above the model as it is
        List<Trial> tied = List.of(trial("as-is", 1.345), trial("rnn-to-gru", 1.367, "rnn-to-gru"));
        assertThat(chooseSwap(tied, 0).noChange()).isTrue();
        // the margin is strict: the model as it is must end above the swap's loss times 1 + margin
        List<Trial> edge = List.of(trial("as-is", 1.5), trial("rnn-to-gru", 1.0, "rnn-to-gru"));
        assertThat(chooseSwap(edge, 0.5).noChange()).isTrue();
        assertThat(chooseSwap(edge, 0.49).swapped()).isTrue();
    }

    @Test
    void aShortTrialsLeadCanMisleadWhichIsWhyTheRuleIsOffByDefault() {
        // the tuning split's structural s1004 (a tanh RNN on sums of 16 steps, SGD): the GRU with orthogonal recurrent
        // weights ended its trial at 0.418 against 0.856 as it is (2.05x lower), and followed for the planned steps
        // 2.85x above the model as it is. The rule on at its margin swaps it; the doctor's defaults leave it
        List<Trial> misleading = List.of(trial("as-is", 0.856), trial("rnn-to-gru+orthogonal-recurrent-init", 0.4183,
                "rnn-to-gru", "orthogonal-recurrent-init"));
        assertThat(chooseSwap(misleading, Doctor.DEFAULT_CELL_SWAP_MARGIN).swapped()).isTrue();
        assertThat(chooseSwap(misleading, 1.1).noChange()).isTrue();
        assertThat(choose(misleading, false, Doctor.DEFAULT_CHANGE_MARGIN).noChange()).isTrue();
    }
}
