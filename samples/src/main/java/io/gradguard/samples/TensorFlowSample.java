package io.gradguard.samples;

import io.gradguard.core.GuardConfig;
import io.gradguard.models.tf.TfMlpScenario;
import io.gradguard.tensorflow.GuardedOptimizer;
import java.nio.file.Path;
import org.tensorflow.Session;
import org.tensorflow.framework.optimizers.Momentum;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.types.TFloat32;

/**
 * TensorFlow Java, graph mode: a deep tanh MLP with SGD + momentum at ten times its tuned learning rate,
 * trained unguarded and then through {@link GuardedOptimizer}.
 *
 * <pre>./mvnw -q -B install -DskipTests &amp;&amp; ./mvnw -q -B -pl samples exec:exec -Ddemo.mainClass=io.gradguard.samples.TensorFlowSample</pre>
 */
public final class TensorFlowSample {

    private static final int STEPS = 400;

    private TensorFlowSample() {}

    /**
     * @param args optional: the JSONL log path
     */
    public static void main(String[] args) {
        Path log = Path.of(args.length > 0 ? args[0] : "target/gradguard-tensorflow.jsonl").toAbsolutePath();
        float lr = TfMlpScenario.EXPLODING_SGD_MOMENTUM_LR;
        float reference = train(TfMlpScenario.TUNED_SGD_MOMENTUM_LR, null);
        float bare = train(lr, null);
        float guarded = train(lr, log);
        System.out.printf("reference (tuned lr %.2f)   eval loss %.4f%n", TfMlpScenario.TUNED_SGD_MOMENTUM_LR, reference);
        System.out.printf("unguarded (lr %.2f)         eval loss %s%n", lr, bare);
        System.out.printf("GuardedOptimizer (lr %.2f)  eval loss %.4f   event log: %s%n", lr, guarded, log);
    }

    private static float train(float lr, Path log) {
        TfMlpScenario sc = new TfMlpScenario();
        try (TfMlpScenario.Model m = sc.build()) {
            Momentum momentum = new Momentum(m.graph, lr, 0.9f, false);
            GuardedOptimizer guard = log == null ? null
                    : GuardedOptimizer.wrap(momentum, GuardConfig.custom().log(log).build());
            Op train = guard == null ? momentum.minimize(m.loss, "train") : guard.minimize(m.loss, "train");
            try (Session session = TfMlpScenario.session(m.graph)) {
                TfMlpScenario.Data data = sc.trainData();
                float[] xs = new float[TfMlpScenario.BATCH * TfMlpScenario.IN];
                float[] ys = new float[TfMlpScenario.BATCH];
                for (int step = 0; step < STEPS; step++) {
                    data.next(xs, ys);
                    try (TFloat32 x = TFloat32.tensorOf(Shape.of(TfMlpScenario.BATCH, TfMlpScenario.IN), DataBuffers.of(xs));
                            TFloat32 y = TFloat32.tensorOf(Shape.of(TfMlpScenario.BATCH, 1), DataBuffers.of(ys))) {
                        Session.Runner runner = session.runner().feed(m.x, x).feed(m.y, y).addTarget(train).fetch(m.loss);
                        // the one change to a TF Java loop: run the step through the guard
                        try (var result = guard == null ? runner.run() : guard.run(session, runner)) {
                            result.get(0);
                        }
                    }
                }
                float eval = sc.evaluate(session, m);
                if (guard != null) {
                    guard.close();
                }
                return eval;
            }
        }
    }
}
