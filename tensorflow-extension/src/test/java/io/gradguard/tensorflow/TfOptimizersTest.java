package io.gradguard.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.core.GuardConfig;
import io.gradguard.models.tf.TfMlpScenario;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.framework.optimizers.AdaDelta;
import org.tensorflow.framework.optimizers.AdaGrad;
import org.tensorflow.framework.optimizers.AdaGradDA;
import org.tensorflow.framework.optimizers.Adam;
import org.tensorflow.framework.optimizers.Adamax;
import org.tensorflow.framework.optimizers.Ftrl;
import org.tensorflow.framework.optimizers.GradientDescent;
import org.tensorflow.framework.optimizers.Momentum;
import org.tensorflow.framework.optimizers.Nadam;
import org.tensorflow.framework.optimizers.Optimizer;
import org.tensorflow.framework.optimizers.RMSProp;
import org.tensorflow.op.Op;

/**
 * Every {@code tensorflow-framework} optimizer: a guarded step moves the model, skipped NaN steps move no
 * variable of the graph (model, slots, optimizer globals), and the rollback after three of them puts
 * every variable back bit-exactly, with no optimizer-specific code in GradGuard.
 */
class TfOptimizersTest {

    private static final TfMlpScenario SC = new TfMlpScenario();

    private static BiFunction<Graph, Float, Optimizer> factory(String name) {
        return switch (name) {
            case "GradientDescent" -> GradientDescent::new;
            case "Momentum" -> (g, lr) -> new Momentum(g, lr, 0.9f, true);
            case "Adam" -> Adam::new;
            case "Adamax" -> Adamax::new;
            case "Nadam" -> Nadam::new;
            case "RMSProp" -> RMSProp::new;
            case "AdaGrad" -> AdaGrad::new;
            case "AdaGradDA" -> AdaGradDA::new;
            case "AdaDelta" -> AdaDelta::new;
            case "Ftrl" -> Ftrl::new;
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** Every variable in the graph except the guard's own, by name order of creation. */
    private static List<String> variables(Graph g) {
        List<String> out = new ArrayList<>();
        g.operations().forEachRemaining(op -> {
            if (op.type().startsWith("Variable") && !op.name().startsWith("gradguard")) {
                out.add(op.name());
            }
        });
        return out;
    }

    /** The raw bytes of every variable (AdaGradDA's global step is an int64). */
    private static List<byte[]> read(Session s, Graph g, List<String> names) {
        Session.Runner r = s.runner();
        names.forEach(r::fetch);
        List<byte[]> out = new ArrayList<>();
        try (Result res = r.run()) {
            for (int i = 0; i < names.size(); i++) {
                var raw = res.get(i).asRawTensor();
                byte[] a = new byte[(int) raw.numBytes()];
                raw.data().read(a);
                out.add(a);
            }
        }
        return out;
    }

    private static void assertSame(List<byte[]> a, List<byte[]> b, List<String> names, String when) {
        for (int i = 0; i < names.size(); i++) {
            assertThat(Arrays.equals(a.get(i), b.get(i))).as("%s: %s", when, names.get(i)).isTrue();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"GradientDescent", "Momentum", "Adam", "Adamax", "Nadam", "RMSProp", "AdaGrad",
        "AdaGradDA", "AdaDelta", "Ftrl"})
    void skipsMoveNothingAndARollbackRestoresEveryVariable(String optimizer) {
        try (TfMlpScenario.Model m = SC.build()) {
            GuardedOptimizer opt = GuardedOptimizer.wrap(factory(optimizer).apply(m.graph, 0.01f), GuardConfig.ofDefaults());
            Op train = opt.minimize(m.loss, "train");
            List<String> names = variables(m.graph);
            assertThat(names.size()).as("model variables plus the optimizer's").isGreaterThanOrEqualTo(m.variables.size());
            try (Session s = TfMlpScenario.session(m.graph)) {
                s.initialize();
                List<byte[]> initial = read(s, m.graph, names);
                float[] xs = new float[TfMlpScenario.BATCH * TfMlpScenario.IN];
                float[] ys = new float[TfMlpScenario.BATCH];
                float[] nan = new float[TfMlpScenario.BATCH];
                Arrays.fill(nan, Float.NaN);
                SC.trainData().next(xs, ys);
                TfMlpScenario.run(s, m, xs, ys, (ss, r) -> opt.run(ss, r.addTarget(train)));
                List<byte[]> afterOne = read(s, m.graph, names);
                assertThat(Arrays.equals(afterOne.get(0), initial.get(0))).as("the first kernel moved").isFalse();
                TfMlpScenario.run(s, m, xs, nan, (ss, r) -> opt.run(ss, r.addTarget(train)));
                TfMlpScenario.run(s, m, xs, nan, (ss, r) -> opt.run(ss, r.addTarget(train)));
                assertSame(read(s, m.graph, names), afterOne, names, optimizer + " after two skipped steps");
                TfMlpScenario.run(s, m, xs, nan, (ss, r) -> opt.run(ss, r.addTarget(train)));
                assertSame(read(s, m.graph, names), initial, names, optimizer + " after the rollback");
                assertThat(opt.summary().rollbacks()).isEqualTo(1);
            }
            opt.close();
        }
    }
}
