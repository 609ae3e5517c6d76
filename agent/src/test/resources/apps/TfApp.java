import io.gradguard.models.tf.TfMlpScenario;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.framework.optimizers.Momentum;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/**
 * A plain TensorFlow Java graph-mode training app, no GradGuard in it: Momentum.minimize(loss, "train")
 * and a Session loop that runs the train op by name. Arguments: learning rate. Prints RESULT and the
 * evaluation loss, or DIVERGED and the message when training throws.
 */
public class TfApp {
    public static void main(String[] args) {
        float lr = Float.parseFloat(args[0]);
        TfMlpScenario sc = new TfMlpScenario();
        try (TfMlpScenario.Model m = sc.build()) {
            new Momentum(m.graph, lr, 0.9f, false).minimize(m.loss, "train");
            try (Session s = TfMlpScenario.session(m.graph)) {
                TfMlpScenario.Data d = sc.trainData();
                float[] xs = new float[TfMlpScenario.BATCH * TfMlpScenario.IN];
                float[] ys = new float[TfMlpScenario.BATCH];
                try {
                    for (int step = 0; step < 400; step++) {
                        d.next(xs, ys);
                        try (TFloat32 tx = TFloat32.tensorOf(Shape.of(TfMlpScenario.BATCH, TfMlpScenario.IN), DataBuffers.of(xs));
                                TFloat32 ty = TFloat32.tensorOf(Shape.of(TfMlpScenario.BATCH, 1), DataBuffers.of(ys));
                                Result r = s.runner().feed("x", tx).feed("y", ty).addTarget("train").fetch("loss").run()) {
                            float loss = ((TFloat32) r.get(0)).getFloat();
                            if (step % 100 == 0) {
                                System.out.println("step " + step + " loss " + loss);
                            }
                        }
                    }
                } catch (IllegalStateException e) {
                    System.out.println("DIVERGED " + e.getMessage());
                }
                System.out.println("RESULT " + sc.evaluate(s, m));
            }
        }
    }
}
