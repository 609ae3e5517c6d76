package io.gradguard.djl.doctor;

import static io.gradguard.djl.doctor.StructureFixTest.MLP_IN;
import static io.gradguard.djl.doctor.StructureFixTest.flow;
import static io.gradguard.djl.doctor.StructureFixTest.names;
import static io.gradguard.djl.doctor.StructureFixTest.train;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.Trainer;
import io.gradguard.djl.doctor.FlowReport.Kind;
import io.gradguard.models.BadInitScenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import io.gradguard.models.family.FamilyGenerator;
import io.gradguard.models.family.GeneratedScenario;
import io.gradguard.models.family.Setup;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The data-dependent re-initialization (LSUV), BatchNorm insertion and residual wrapping on the real engine: each
 * changes the block as documented (shapes kept; names kept, or changed as documented) and moves the measured gradient
 * flow the right way.
 */
class MoreStructureFixesTest {

    /** A tuning-split set-up redrawn as a structural fault: its own task, data and optimizer, the given body. */
    static GeneratedScenario variant(long seed, Setup.Arch arch, int depth, Setup.Act act, Setup.Init init) {
        Setup s = FamilyGenerator.draw(seed);
        return new GeneratedScenario(new Setup(s.seed(), arch, depth, s.width(), act, init, false, s.optimizer(),
                s.batchSize(), s.schedule(), s.task(), s.outputs(), s.features(), s.length(), s.steps(), s.multiplier()));
    }

    /** A model as it is, initialized by a first trainer, and its flow at initialization. */
    record Measured(Block block, FlowReport before, Shape in, Shape out) {}

    static Measured measure(ScenarioRun run) {
        Shape in = run.inputShape();
        try (Trainer t = run.newTrainer()) {
            Block block = run.model().getBlock();
            return new Measured(block, flow(t, run), in, block.getOutputShapes(new Shape[] {in})[0]);
        }
    }

    private static double distanceFromOne(double growth) {
        return Math.abs(Math.log(growth));
    }

    @Test
    void lsuvScalesEachHiddenLayerToUnitVarianceAndTrainsWhereTheUnfixedNetExplodes() {
        float unfixed = StructureFixTest.badInitUnfixed();
        try (ScenarioRun run = new BadInitScenario().open(Variant.EXPLODING); Trainer t = run.newTrainer()) {
            Block block = run.model().getBlock();
            FlowReport before = flow(t, run);
            List<String> namesBefore = names(block);
            StructureFix lsuv = new Lsuv();
            assertThat(lsuv.appliesTo(block, before)).isTrue();
            assertThatThrownBy(() -> lsuv.apply(block, new FixContext(run.model().getNDManager(), MLP_IN, null)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs a sample of inputs");
            FixResult r;
            try (NDArray batch = firstBatch(run)) {
                r = lsuv.apply(block, new FixContext(run.model().getNDManager(), MLP_IN, batch));
            }
            assertThat(r.block()).isSameAs(block);
            assertThat(r.namesKept()).isTrue();
            // every hidden Linear, not the output layer
            assertThat(r.changedParameters()).hasSize(16).allMatch(n -> n.endsWith("_weight"));
            assertThat(names(block)).isEqualTo(namesBefore);
            FlowReport after = flow(t, run);
            System.out.println(r.summary() + "\n" + before.text() + after.text());
            assertThat(before.activationGrowthPerLayer()).isGreaterThan(1.3);
            assertThat(after.activationGrowthPerLayer()).isBetween(0.85, 1.15);
            assertThat(after.has(Kind.ACTIVATIONS_GROW, Kind.GRADIENTS_GROW)).isFalse();
            float fixed = train(run, t, 30);
            System.out.printf("bad init, 30 steps: unfixed %s, LSUV %s%n", unfixed, fixed);
            assertThat(!Float.isFinite(unfixed) || unfixed > 100 * fixed).as("unfixed %s explodes", unfixed).isTrue();
            assertThat(fixed).isFinite().isLessThan(2f);
        }
    }

    private static NDArray firstBatch(ScenarioRun run) {
        int b = run.scenario().batchSize();
        var m = run.model().getNDManager();
        NDArray[] rows = new NDArray[b];
        for (int i = 0; i < b; i++) {
            rows[i] = run.dataset().get(m, i).getData().head();
        }
        return ai.djl.ndarray.NDArrays.stack(new ai.djl.ndarray.NDList(rows));
    }

    @Test
    void batchNormAfterEachConvolutionKeepsNamesAndShapesAndBringsTheSignalBackToScale() {
        // a 6-layer plain ReLU conv net with LeCun initialization: the signal halves about every two layers
        GeneratedScenario g = variant(1027, Setup.Arch.CONV, 6, Setup.Act.RELU, Setup.Init.LECUN);
        try (ScenarioRun run = g.open(g.nominalLr())) {
            Measured m = measure(run);
            Block block = m.block();
            FlowReport before = m.before();
            Shape in = m.in();
            Shape outBefore = m.out();
            List<String> namesBefore = names(block);
            StructureFix bn = new InsertBatchNorm();
            assertThat(bn.appliesTo(block, before)).as(before.text()).isTrue();
            assertThat(new InsertLayerNorm().appliesTo(block, before)).as("LayerNorm follows Linear layers only").isTrue();
            FixResult r = bn.apply(block, new FixContext(run.model().getNDManager(), in, null));
            // six convolutions and the hidden Linear; not the output layer
            assertThat(r.addedBlocks()).hasSize(7).first().asString().endsWith("BatchNorm");
            assertThat(r.namesKept()).isTrue();
            run.model().setBlock(r.block());
            try (Trainer t = run.newTrainer()) {
                List<String> namesAfter = names(r.block());
                assertThat(namesAfter).containsAll(namesBefore).hasSize(namesBefore.size() + 4 * 7);
                assertThat(r.block().getOutputShapes(new Shape[] {in})[0]).isEqualTo(outBefore);
                FlowReport after = flow(t, run);
                System.out.println(before.text() + after.text());
                assertThat(distanceFromOne(after.activationGrowthPerLayer()))
                        .isLessThan(distanceFromOne(before.activationGrowthPerLayer()));
                assertThat(distanceFromOne(after.gradGrowthPerLayer())).isLessThan(distanceFromOne(before.gradGrowthPerLayer()));
                assertThat(train(run, t, 30)).isFinite();
            }
        }
    }

    @Test
    void residualWrapKeepsShapesRenamesAsDocumentedAndStopsTheSignalFromVanishing() {
        // the doctor benchmark's bad-init structural kind: 12-layer plain ReLU MLP, LeCun initialization
        GeneratedScenario g = variant(1000, Setup.Arch.MLP, 12, Setup.Act.RELU, Setup.Init.LECUN);
        try (ScenarioRun run = g.open(g.nominalLr())) {
            Measured m = measure(run);
            Block block = m.block();
            FlowReport before = m.before();
            Shape in = m.in();
            Shape outBefore = m.out();
            int paramsBefore = names(block).size();
            StructureFix res = new WrapResidual();
            assertThat(res.appliesTo(block, before)).as(before.text()).isTrue();
            FixResult r = res.apply(block, new FixContext(run.model().getNDManager(), in, null));
            // each hidden Linear that keeps the width (all 12 here: 16 features, width 16); not the output layer
            assertThat(r.addedBlocks()).hasSize(12).allMatch(n -> n.endsWith("Residual"));
            assertThat(r.changedParameters()).hasSize(12).allMatch(n -> n.endsWith("Linear_weight"));
            assertThat(r.namesKept()).isFalse();
            assertThat(res.appliesTo(r.block(), before)).as("already residual").isFalse();
            run.model().setBlock(r.block());
            try (Trainer t = run.newTrainer()) {
                assertThat(names(r.block())).hasSize(paramsBefore).anyMatch(n -> n.contains("Residual_"));
                assertThat(r.block().getOutputShapes(new Shape[] {in})[0]).isEqualTo(outBefore);
                FlowReport after = flow(t, run);
                System.out.println(before.text() + after.text());
                assertThat(before.has(Kind.ACTIVATIONS_SHRINK, Kind.GRADIENTS_SHRINK)).isTrue();
                assertThat(after.has(Kind.ACTIVATIONS_SHRINK, Kind.GRADIENTS_SHRINK, Kind.ACTIVATIONS_GROW,
                        Kind.GRADIENTS_GROW)).isFalse();
                assertThat(train(run, t, 30)).isFinite();
            }
        }
    }

    @Test
    void theDoctorComposesTheOptInFixesInTheOrderThatBuilds() {
        // the residual fix first leaves LSUV no plain chain to scale; the doctor's pair then takes the other order
        BadInitScenario s = new BadInitScenario();
        DoctorResult r;
        try (ScenarioRun run = s.open(Variant.EXPLODING)) {
            r = Doctor.builder().model(DoctorTest.blocks(s, Variant.EXPLODING)).config(DoctorTest::config)
                    .learningRate(s.learningRate(Variant.EXPLODING)).data(run.dataset()).inputShape(MLP_IN)
                    .plannedSteps(300).budgetSteps(40).lrFinderSteps(0)
                    .fixes(List.of(new WrapResidual(), new Lsuv(), new InsertBatchNorm())).build().run();
        }
        List<String> names = r.trials().stream().map(Trial::name).toList();
        System.out.println(r.text());
        // BatchNorm needs a convolution: not tried on an MLP
        assertThat(names).contains("as-is", "residual", "lsuv").doesNotContain("batch-norm");
        assertThat(names).containsAnyOf("lsuv+residual", "residual+lsuv");
        assertThat(r.noChangeNeeded()).isFalse();
    }
}
