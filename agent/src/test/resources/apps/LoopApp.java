import ai.djl.training.Trainer;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Scenarios;
import io.gradguard.models.Variant;

/** A hand-written loop (backward, then trainer.step()) that knows nothing of GradGuard. Args: scenario variant. */
public class LoopApp {
    public static void main(String[] args) {
        Scenario s = Scenarios.byName(args[0]);
        try (ScenarioRun run = s.open(Variant.valueOf(args[1])); Trainer t = run.newTrainer()) {
            run.trainByHand(t, (tr, loss) -> tr.step());
            System.out.println("RESULT " + run.evalLoss(t));
        }
    }
}
