package io.gradguard.djl.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.training.ParameterServer;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.optimizer.Optimizer;
import io.gradguard.models.CorruptedBatchScenario;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.lang.reflect.Field;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A clip folded into DJL's fused update ({@link RescaleFold}) is the same step as scaling the gradients
 * in place first, bit for bit, on the real PyTorch engine, and it leaves the gradients themselves alone
 * (no pass over them) and the optimizer's own factor as it was.
 */
class RescaleFoldTest {

    static Stream<Arguments> optimizers() {
        return Stream.of(Arguments.of("Sgd momentum", new DeepMlpScenario()),
                Arguments.of("Adam", new CorruptedBatchScenario()));
    }

    /** Trains 12 steps, every one clipped by {@code coef} through a gate; returns the final parameters and gradients. */
    private static float[][][] train(Scenario s, boolean fold, double coef) throws Exception {
        try (ScenarioRun run = s.open(Variant.REFERENCE); Trainer t = run.newTrainer()) {
            ParameterStore store = TrainerAccess.parameterStore(t);
            ParameterServer server = TrainerAccess.parameterServer(store);
            GatedParameterServer gate = new GatedParameterServer(server, new GradientActuator());
            assertThat(TrainerAccess.replaceParameterServer(store, gate)).isTrue();
            Optimizer opt = OptimizerAccess.optimizer(t);
            assertThat(gate.foldClipsInto(fold ? opt : null)).isEqualTo(fold);
            GradientInspector insp = new GradientInspector(t);
            float[][] grads = new float[insp.size()][];
            run.trainByHand(t, (tr, loss) -> {
                gate.arm(coef);
                tr.step();
                gate.stepDone();
                for (int i = 0; i < insp.size(); i++) {
                    grads[i] = insp.copies(i)[0].getGradient().toFloatArray();
                }
            }, 12);
            Field f = Optimizer.class.getDeclaredField("rescaleGrad");
            f.setAccessible(true);
            assertThat(f.getFloat(opt)).as("optimizer's own factor restored").isEqualTo(1.0f);
            float[][] params = new float[insp.size()][];
            for (int i = 0; i < insp.size(); i++) {
                params[i] = insp.copies(i)[0].toFloatArray();
            }
            return new float[][][] {params, grads};
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("optimizers")
    void foldedClipEqualsInPlaceScale(String name, Scenario s) throws Exception {
        float[][][] folded = train(s, true, 0.3);
        float[][][] inPlace = train(s, false, 0.3);
        float[][][] unclipped = train(s, true, 1.0);
        for (int i = 0; i < folded[0].length; i++) {
            assertThat(folded[0][i]).as("parameter %d", i).isEqualTo(inPlace[0][i]);
        }
        // the clip changed the run (so the equality above is not vacuous)
        assertThat(Arrays.deepEquals(folded[0], unclipped[0])).isFalse();
        // the folded run left its last gradients unscaled; the in-place run scaled them by 0.3
        int last = folded[1].length - 1;
        List<float[]> g = List.of(folded[1][last], inPlace[1][last]);
        for (int k = 0; k < g.get(0).length; k++) {
            if (g.get(0)[k] != 0) {
                assertThat(g.get(1)[k]).isEqualTo(g.get(0)[k] * 0.3f, org.assertj.core.data.Offset.offset(Math.abs(g.get(0)[k]) * 1e-6f));
            }
        }
    }
}
