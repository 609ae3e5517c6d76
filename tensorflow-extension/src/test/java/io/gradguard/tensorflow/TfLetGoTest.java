package io.gradguard.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.core.GuardConfig;
import io.gradguard.models.Reachability;
import io.gradguard.models.tf.TfMlpScenario;
import java.lang.ref.WeakReference;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Session;
import org.tensorflow.op.Op;

/**
 * A guarded TensorFlow optimizer that was used and closed, and its graph, are garbage once the application drops them:
 * nothing in GradGuard's registries (the optimizer-to-loss claims) keeps them, or the guard's state, alive. The DJL
 * side once kept every guard ever used (see {@code FaultScaleTest}); this is the same check for TensorFlow.
 */
class TfLetGoTest {

    private static List<WeakReference<Object>> trainAndLetGo(boolean close) {
        TfMlpScenario sc = new TfMlpScenario();
        try (TfMlpScenario.Model m = sc.build()) {
            GuardedOptimizer opt = GuardedOptimizer.wrap(TfMlpScenario.sgd(m.graph, 0.01f), GuardConfig.ofDefaults());
            Op train = opt.minimize(m.loss, "train");
            try (Session s = TfMlpScenario.session(m.graph)) {
                TfMlpScenario.Data d = sc.trainData();
                float[] xs = new float[TfMlpScenario.BATCH * TfMlpScenario.IN];
                float[] ys = new float[TfMlpScenario.BATCH];
                for (int i = 0; i < 20; i++) {
                    d.next(xs, ys);
                    TfMlpScenario.run(s, m, xs, ys, (ss, r) -> opt.run(ss, r.addTarget(train)));
                }
                assertThat(opt.summary().steps()).as("guarded steps").isEqualTo(20);
            }
            if (close) {
                opt.close();
            }
            return List.of(new WeakReference<>(opt), new WeakReference<>(m.graph), new WeakReference<>(m.loss));
        }
    }

    @Test
    void aClosedGuardedOptimizerAndItsGraphAreLetGo() throws InterruptedException {
        assertThat(Reachability.collected(trainAndLetGo(true))).as("optimizer, graph and loss collected once dropped").isTrue();
    }

    @Test
    void aGuardedOptimizerLeftOpenDoesNotKeepItsGraph() throws InterruptedException {
        assertThat(Reachability.collected(trainAndLetGo(false))).as("collected once dropped, the optimizer unclosed").isTrue();
    }
}
