import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Scenarios;
import io.gradguard.models.Variant;
import java.util.Arrays;

/**
 * Benchmark app: a healthy scenario trained with EasyTrain.trainBatch + trainer.step; prints the median
 * iteration time after warm-up. Args: scenario steps [listener]. With "listener" it adds the app's own
 * GradGuardListener (found by reflection, so the app compiles without GradGuard).
 */
public class StepTimeApp {
    public static void main(String[] args) throws Exception {
        Scenario s = Scenarios.byName(args[0]);
        int steps = Integer.parseInt(args[1]);
        try (ScenarioRun run = s.open(Variant.REFERENCE)) {
            if (args.length > 2 && args[2].equals("listener")) {
                Object l = Class.forName("io.gradguard.djl.GradGuardListener").getConstructor().newInstance();
                run.config().addTrainingListeners((ai.djl.training.listener.TrainingListener) l);
            }
            try (Trainer t = run.newTrainer()) {
                long[] times = new long[steps];
                int i = 0;
                while (i < steps) {
                    for (Batch b : t.iterateDataset(run.dataset())) {
                        if (i >= steps) {
                            b.close();
                            break;
                        }
                        long t0 = System.nanoTime();
                        EasyTrain.trainBatch(t, b);
                        t.step();
                        times[i++] = System.nanoTime() - t0;
                        b.close();
                    }
                }
                long[] warm = Arrays.copyOfRange(times, Math.min(50, steps / 4), steps);
                Arrays.sort(warm);
                System.out.println("MEDIAN_US " + warm[warm.length / 2] / 1000.0);
            }
        }
    }
}
