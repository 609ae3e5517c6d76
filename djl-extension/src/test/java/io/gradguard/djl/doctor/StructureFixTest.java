package io.gradguard.djl.doctor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.Trainer;
import ai.djl.util.Pair;
import io.gradguard.djl.doctor.FlowReport.Kind;
import io.gradguard.models.BadInitScenario;
import io.gradguard.models.FeatureScaleScenario;
import io.gradguard.models.RnnAdditionScenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Each structure fix on the real engine: it changes the block as documented (shapes kept, names kept where
 * promised) and moves the measured gradient flow the right way; where the unfixed set-up explodes, the same test
 * shows it.
 */
class StructureFixTest {

    static final Shape MLP_IN = new Shape(32, 16);

    static List<String> names(Block b) {
        List<String> out = new ArrayList<>();
        for (Pair<String, Parameter> p : b.getParameters()) {
            out.add(p.getKey());
        }
        return out;
    }

    static FlowReport flow(Trainer t, ScenarioRun run) {
        return FlowCheck.builder().batches(2).build().run(t, run.dataset());
    }

    static float train(ScenarioRun run, Trainer t, int steps) {
        run.trainByHand(t, (tr, loss) -> tr.step(), steps);
        return run.evalLoss(t);
    }

    /** The zoo's bad initialization trained 30 steps as it is: the loss a fix is compared with (it explodes). */
    static float badInitUnfixed() {
        try (ScenarioRun run = new BadInitScenario().open(Variant.EXPLODING); Trainer t = run.newTrainer()) {
            return train(run, t, 30);
        }
    }

    @Test
    void heReInitBringsTheBadInitGrowthToAboutOneAndTrainsWhereTheUnfixedNetExplodes() {
        float unfixed = badInitUnfixed();
        try (ScenarioRun run = new BadInitScenario().open(Variant.EXPLODING); Trainer t = run.newTrainer()) {
            Block block = run.model().getBlock();
            FlowReport before = flow(t, run);
            List<String> namesBefore = names(block);
            StructureFix he = ReInitialize.he();
            assertThat(he.appliesTo(block, before)).isTrue();
            assertThat(ReInitialize.xavier().appliesTo(block, before)).as("ReLU net: not Xavier").isFalse();
            assertThat(ReInitialize.orthogonalRecurrent().appliesTo(block, before)).isFalse();
            FixResult r = he.apply(block, new FixContext(run.model().getNDManager(), MLP_IN, null));
            assertThat(r.block()).isSameAs(block);
            assertThat(r.namesKept()).isTrue();
            assertThat(r.changedParameters()).hasSize(17).allMatch(n -> n.endsWith("_weight"));
            assertThat(names(block)).isEqualTo(namesBefore);
            FlowReport after = flow(t, run);
            System.out.println(before.text() + after.text());
            assertThat(before.activationGrowthPerLayer()).isGreaterThan(1.3);
            assertThat(after.activationGrowthPerLayer()).isBetween(0.85, 1.15);
            assertThat(before.gradCompound()).isGreaterThan(FlowReport.COMPOUND_MAX);
            assertThat(after.gradGrowthPerLayer()).isBetween(0.85, 1.15);
            assertThat(after.has(Kind.ACTIVATIONS_GROW, Kind.GRADIENTS_GROW)).isFalse();
            float fixed = train(run, t, 30);
            System.out.printf("bad init, 30 steps: unfixed %s, He re-init %s%n", unfixed, fixed);
            assertThat(!Float.isFinite(unfixed) || unfixed > 100 * fixed).as("unfixed %s explodes", unfixed).isTrue();
            assertThat(fixed).isFinite().isLessThan(2f);
        }
    }

    @Test
    void layerNormInsertionKeepsNamesAndShapesAndFlattensTheActivations() {
        try (ScenarioRun run = new BadInitScenario().open(Variant.EXPLODING)) {
            Block block;
            FlowReport before;
            try (Trainer t = run.newTrainer()) {
                block = run.model().getBlock();
                before = flow(t, run);
            }
            Shape outBefore = block.getOutputShapes(new Shape[] {MLP_IN})[0];
            List<String> namesBefore = names(block);
            StructureFix ln = new InsertLayerNorm();
            assertThat(ln.appliesTo(block, before)).isTrue();
            FixResult r = ln.apply(block, new FixContext(run.model().getNDManager(), MLP_IN, null));
            assertThat(r.addedBlocks()).hasSize(16).first().isEqualTo("01LinearLayerNorm");
            run.model().setBlock(r.block());
            try (Trainer t = run.newTrainer()) {
                List<String> namesAfter = names(r.block());
                assertThat(namesAfter).containsAll(namesBefore).contains("01LinearLayerNorm_gamma")
                        .hasSize(namesBefore.size() + 32);
                assertThat(r.block().getOutputShapes(new Shape[] {MLP_IN})[0]).isEqualTo(outBefore);
                FlowReport after = flow(t, run);
                System.out.println(after.text());
                assertThat(after.activationGrowthPerLayer()).isBetween(0.8, 1.25);
                assertThat(after.gradCompound()).isBetween(FlowReport.COMPOUND_MIN, FlowReport.COMPOUND_MAX);
                assertThat(after.has(Kind.ACTIVATIONS_GROW, Kind.GRADIENTS_GROW)).isFalse();
            }
        }
    }

    @Test
    void inputStandardizationRemovesTheFeatureScaleFindingAndKeepsNames() {
        try (ScenarioRun run = new FeatureScaleScenario().open(Variant.EXPLODING)) {
            Block block;
            FlowReport before;
            try (Trainer t = run.newTrainer()) {
                block = run.model().getBlock();
                before = flow(t, run);
            }
            StructureFix st = new StandardizeInputs();
            assertThat(st.appliesTo(block, before)).isTrue();
            assertThat(ReInitialize.he().appliesTo(block, before)).as("no depth trouble in 4 layers").isFalse();
            List<String> namesBefore = names(block);
            // statistics from the first 512 rows of the training inputs
            NDArray x = trainInputs(run, 512);
            FixResult r = st.apply(block, new FixContext(run.model().getNDManager(), MLP_IN, x));
            assertThat(r.namesKept()).isTrue();
            run.model().setBlock(r.block());
            try (Trainer t = run.newTrainer()) {
                assertThat(names(r.block())).containsAll(namesBefore).contains("00Standardize_mean", "00Standardize_std");
                FlowReport after = flow(t, run);
                System.out.println(before.text() + after.text());
                assertThat(before.inputColumnSpread()).isGreaterThan(8);
                assertThat(after.inputColumnSpread()).isLessThan(1.5);
                assertThat(after.has(Kind.INPUT_SCALE)).isFalse();
                NDList z = r.block().getChildren().get(0).getValue()
                        .forward(new ai.djl.training.ParameterStore(run.model().getNDManager(), false), new NDList(x), false);
                float[] sd = z.head().sub(z.head().mean(new int[] {0})).square().mean(new int[] {0}).sqrt().toFloatArray();
                for (float v : sd) {
                    assertThat(v).isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-3f));
                }
            }
        }
    }

    static NDArray trainInputs(ScenarioRun run, int n) {
        List<NDArray> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rows.add(run.dataset().get(run.model().getNDManager(), i).getData().head().expandDims(0));
        }
        return ai.djl.ndarray.NDArrays.concat(new NDList(rows));
    }

    @Test
    void orthogonalInitMakesTheRecurrentWeightOrthogonalAndLeavesTheRestAlone() {
        try (ScenarioRun run = new RnnAdditionScenario().open(Variant.EXPLODING); Trainer t = run.newTrainer()) {
            Block block = run.model().getBlock();
            FlowReport before = flow(t, run);
            StructureFix orth = ReInitialize.orthogonalRecurrent();
            assertThat(orth.appliesTo(block, before)).isTrue();
            assertThat(ReInitialize.he().appliesTo(block, before)).isFalse();
            float[] i2h = param(block, "i2h_WEIGHT").toFloatArray();
            FixResult r = orth.apply(block, new FixContext(run.model().getNDManager(), new Shape(32, 20, 2), null));
            assertThat(r.changedParameters()).containsExactly("01RNN_l_0_h2h_WEIGHT");
            NDArray w = param(block, "h2h_WEIGHT");
            float[] wwt = w.matMul(w.transpose()).toFloatArray();
            int h = (int) w.getShape().get(0);
            for (int i = 0; i < h; i++) {
                for (int j = 0; j < h; j++) {
                    assertThat(wwt[i * h + j]).isCloseTo(i == j ? 1f : 0f, org.assertj.core.data.Offset.offset(1e-4f));
                }
            }
            assertThat(param(block, "i2h_WEIGHT").toFloatArray()).isEqualTo(i2h);
        }
    }

    static NDArray param(Block b, String suffix) {
        for (Pair<String, Parameter> p : b.getParameters()) {
            if (p.getKey().endsWith(suffix)) {
                return p.getValue().getArray();
            }
        }
        throw new AssertionError("no parameter *" + suffix);
    }

    @Test
    void aFixWithNothingToActOnSaysWhatItLookedFor() {
        try (ScenarioRun run = new BadInitScenario().open(Variant.EXPLODING); Trainer t = run.newTrainer()) {
            FixContext c = new FixContext(run.model().getNDManager(), MLP_IN, null);
            assertThatThrownBy(() -> ReInitialize.orthogonalRecurrent().apply(run.model().getBlock(), c))
                    .hasMessageContaining("h2h");
            assertThatThrownBy(() -> new StandardizeInputs().apply(run.model().getBlock(), c))
                    .hasMessageContaining("needs a sample of inputs");
        }
    }
}
