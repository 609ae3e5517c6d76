import ai.djl.training.Trainer;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Scenarios;
import io.gradguard.models.Variant;

/** A hand-written loop that trains one scenario for many epochs (to be killed part-way). Args: scenario variant epochs. */
public class LongLoopApp {
    public static void main(String[] args) {
        Scenario s = Scenarios.byName(args[0]);
        try (ScenarioRun run = s.open(Variant.valueOf(args[1])); Trainer t = run.newTrainer()) {
            for (int e = 0; e < Integer.parseInt(args[2]); e++) {
                run.trainByHand(t, (tr, loss) -> tr.step());
            }
            System.out.println("RESULT " + run.evalLoss(t));
        }
    }
}
