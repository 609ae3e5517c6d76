import ai.djl.training.Trainer;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Scenarios;
import io.gradguard.models.Variant;

/** Benchmark app: start the engine, build a trainer, one step, exit. */
public class StartupApp {
    public static void main(String[] args) {
        try (ScenarioRun run = Scenarios.byName("corrupted-batch-adam").open(Variant.REFERENCE); Trainer t = run.newTrainer()) {
            run.trainByHand(t, (tr, loss) -> tr.step(), 1);
            System.out.println("DONE");
        }
    }
}
