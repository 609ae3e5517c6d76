package io.gradguard.djl.doctor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.recurrent.GRU;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.gradguard.models.BadInitScenario;
import io.gradguard.models.RnnAdditionScenario;
import io.gradguard.models.SafeOps;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The vanilla-RNN-to-GRU/LSTM swap on the real engine, on {@code rnn-addition-tanh}: shapes and the other names kept,
 * the gradient through time no longer grows towards the first step, and the swapped model trains where the unfixed
 * one (in the same test) does worse; then the doctor on the same set-up.
 */
class SwapRecurrentCellTest {

    static final Shape SEQ_IN = new Shape(32, 20, 2);
    static final int STEPS = 40;

    /**
     * The backward signal through time: the loss's gradient with respect to the input at the first step over that at
     * the last step, on the first batch (above 1: it grows going back in time).
     */
    static double throughTime(ScenarioRun run, Trainer t) throws Exception {
        try (Batch b = t.iterateDataset(run.dataset()).iterator().next()) {
            NDArray x = b.getData().head();
            x.setRequiresGradient(true);
            try (GradientCollector gc = t.newGradientCollector()) {
                NDList pred = t.forward(new NDList(x));
                gc.backward(t.getLoss().evaluate(b.getLabels(), pred));
            }
            NDArray g = x.getGradient();
            float first = g.get(new NDIndex(":, 0, :")).norm().getFloat();
            float last = g.get(new NDIndex(":, -1, :")).norm().getFloat();
            t.getModel().getBlock().getParameters().values().forEach(p -> {
                if (p.getArray().hasGradient()) {
                    p.getArray().getGradient().set(new NDIndex("..."), 0);
                }
            });
            return first / last;
        }
    }

    static float train(ScenarioRun run, Trainer t) {
        run.trainByHand(t, (tr, loss) -> tr.step(), STEPS);
        return run.evalLoss(t);
    }

    @Test
    void theGruKeepsShapesAndNamesStopsTheGrowthThroughTimeAndTrainsBetterThanTheUnfixedRnn() throws Exception {
        float unfixed;
        double unfixedTime;
        try (ScenarioRun run = new RnnAdditionScenario().open(Variant.EXPLODING); Trainer t = run.newTrainer()) {
            unfixedTime = throughTime(run, t);
            unfixed = train(run, t);
        }
        try (ScenarioRun run = new RnnAdditionScenario().open(Variant.EXPLODING)) {
            Block block = run.model().getBlock();
            block.initialize(run.model().getNDManager(), DataType.FLOAT32, SEQ_IN);
            Shape out = block.getOutputShapes(new Shape[] {SEQ_IN})[0];
            List<String> namesBefore = StructureFixTest.names(block);
            StructureFix swap = SwapRecurrentCell.gru();
            assertThat(swap.appliesTo(block, null)).isTrue();
            FixResult r = swap.apply(block, new FixContext(run.model().getNDManager(), SEQ_IN, null));
            assertThat(r.addedBlocks()).containsExactly("01GRU");
            assertThat(r.namesKept()).isFalse();
            assertThat(r.block().getChildren().get("01GRU")).isInstanceOf(GRU.class);
            run.model().setBlock(r.block());
            try (Trainer t = run.newTrainer()) {
                assertThat(r.block().getOutputShapes(new Shape[] {SEQ_IN})[0]).isEqualTo(out);
                List<String> namesAfter = StructureFixTest.names(r.block());
                assertThat(namesAfter).contains("03Linear_weight", "03Linear_bias", "01GRU_l_0_h2h_WEIGHT")
                        .noneMatch(n -> n.contains("RNN"));
                assertThat(namesBefore).filteredOn(n -> !n.startsWith("01RNN")).isSubsetOf(namesAfter);
                assertThat(StructureFixTest.param(r.block(), "01GRU_l_0_h2h_WEIGHT").getShape())
                        .isEqualTo(new Shape(3 * 32, 32));
                double time = throughTime(run, t);
                float fixed = train(run, t);
                System.out.printf("rnn-addition, %d steps at lr 0.1: unfixed %s (first/last-step input gradient %.3g),"
                        + " GRU %s (%.3g)%n", STEPS, unfixed, unfixedTime, fixed, time);
                assertThat(unfixedTime).isGreaterThan(1);
                assertThat(time).isLessThan(unfixedTime / 10);
                assertThat(fixed).isFinite();
                assertThat(!Float.isFinite(unfixed) || unfixed > 1.5f * fixed).as("unfixed %s", unfixed).isTrue();
            }
        }
    }

    @Test
    void theLstmSwapKeepsShapesAndTheNonRecurrentModelIsRefusedByName() {
        try (ScenarioRun run = new RnnAdditionScenario().open(Variant.EXPLODING)) {
            Block block = run.model().getBlock();
            block.initialize(run.model().getNDManager(), DataType.FLOAT32, SEQ_IN);
            FixResult r = SwapRecurrentCell.lstm().apply(block, new FixContext(run.model().getNDManager(), SEQ_IN, null));
            assertThat(r.block().getChildren().get("01LSTM")).isInstanceOf(LSTM.class);
            run.model().setBlock(r.block());
            try (Trainer t = run.newTrainer()) {
                assertThat(StructureFixTest.param(r.block(), "01LSTM_l_0_h2h_WEIGHT").getShape())
                        .isEqualTo(new Shape(4 * 32, 32));
                NDArray y = t.evaluate(new NDList(run.model().getNDManager().ones(SEQ_IN))).head();
                assertThat(y.getShape()).isEqualTo(new Shape(32, 1));
            }
        }
        try (ScenarioRun run = new BadInitScenario().open(Variant.EXPLODING); Trainer t = run.newTrainer()) {
            assertThat(SwapRecurrentCell.gru().appliesTo(run.model().getBlock(), null)).isFalse();
            assertThatThrownBy(() -> SwapRecurrentCell.gru().apply(run.model().getBlock(),
                    new FixContext(run.model().getNDManager(), DoctorTest.IN, null)))
                    .hasMessageContaining("needs a vanilla RNN");
        }
    }

    /** The scenario's optimizer: plain SGD at a fixed rate, L2 loss. */
    static DefaultTrainingConfig sgd(double lr) {
        return new DefaultTrainingConfig(SafeOps.l2Loss())
                .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed((float) lr)).build());
    }

    static DoctorResult consult(Variant v) {
        Scenario s = new RnnAdditionScenario();
        try (ScenarioRun run = s.open(v)) {
            DoctorResult r = Doctor.builder().model(DoctorTest.blocks(s, v)).config(SwapRecurrentCellTest::sgd)
                    .learningRate(s.learningRate(v)).data(run.dataset()).inputShape(SEQ_IN).plannedSteps(s.steps())
                    .budgetSteps(160).lrFinderSteps(40).build().run();
            System.out.println(s.name() + " " + v + "\n" + r.text());
            return r;
        }
    }

    @Test
    void theDoctorsPickOnTheExplodingRnnImprovesOnTheModelAsItIs() {
        DoctorResult r = consult(Variant.EXPLODING);
        Trial asIs = DoctorWarmUpTest.trial(r, "as-is");
        assertThat(r.trials()).anyMatch(t -> t.name().equals("rnn-to-gru"));
        assertThat(r.noChangeNeeded()).isFalse();
        assertThat(r.chosen().finite()).isTrue();
        assertThat(!asIs.finite() || asIs.finalLoss() > 1.1 * r.chosen().finalLoss())
                .as("as-is %s, chosen %s", asIs.finalLoss(), r.chosen().finalLoss()).isTrue();
    }

    /** The tuned reference (lr 0.03): the swap is tried (the model has a vanilla RNN) and does not win. */
    @Test
    void saysNoChangeNeededOnTheHealthyRnnReference() {
        DoctorResult r = consult(Variant.REFERENCE);
        assertThat(r.trials()).anyMatch(t -> t.name().equals("rnn-to-gru"));
        assertThat(r.noChangeNeeded()).isTrue();
        assertThat(r.prescription()).singleElement().asString().startsWith("no change needed");
    }
}
