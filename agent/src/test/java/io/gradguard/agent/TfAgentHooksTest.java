package io.gradguard.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.models.tf.TfMlpScenario;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.tensorflow.framework.optimizers.Optimizer;
import org.tensorflow.op.Op;

/** The agent's TensorFlow hooks on real graphs, without an agent: fail-open and the guarded build. */
class TfAgentHooksTest {

    private static AgentConfig config() {
        return AgentConfig.read("", new Properties(), java.util.Map.of());
    }

    @Test
    void anOptimizerThatCannotBeGuardedBuildsItsOwnUpdateWithOneWarning() {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        TfAgentHooks hooks = new TfAgentHooks(config());
        try (TfMlpScenario.Model m = new TfMlpScenario().build()) {
            Optimizer opt = TfMlpScenario.sgd(m.graph, 0.01f);
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            // no gradients: the guarded build refuses, the hook answers null, the optimizer's own body runs
            assertThat(hooks.applyGradients(opt, List.of(), "train")).isNull();
            assertThat(hooks.applyGradients(opt, List.of(), "train")).isNull();
            // the original update still builds
            Op train = opt.minimize(m.loss, "train");
            assertThat(train).isNotNull();
        } finally {
            System.setErr(err);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        assertThat(out.lines().filter(l -> l.startsWith("GradGuard agent:")).toList()).hasSize(1);
        assertThat(out).contains("could not guard GradientDescent.applyGradients").contains("that optimizer runs unguarded");
    }

    @Test
    void aGuardedBuildReturnsTheGuardedTrainOpUnderTheUsersName() {
        TfAgentHooks hooks = new TfAgentHooks(config());
        try (TfMlpScenario.Model m = new TfMlpScenario().build()) {
            Optimizer opt = TfMlpScenario.sgd(m.graph, 0.01f);
            hooks.computeGradients(opt, m.loss);
            Object guarded = hooks.applyGradients(opt, opt.computeGradients(m.loss), "train");
            assertThat(guarded).isInstanceOf(Op.class);
            assertThat(((Op) guarded).op().name()).isEqualTo("train");
            assertThat(m.graph.operation("train_unguarded")).isNotNull();
            assertThat(m.graph.operation("gradguard/stats")).isNotNull();
        }
    }
}
