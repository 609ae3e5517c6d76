import ai.djl.TrainingDivergedException;
import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListener;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Scenarios;
import io.gradguard.models.Variant;

/** An ordinary EasyTrain app that knows nothing of GradGuard. Args: scenario variant basic|logging. */
public class EasyTrainApp {
    public static void main(String[] args) {
        Scenario s = Scenarios.byName(args[0]);
        try (ScenarioRun run = s.open(Variant.valueOf(args[1]))) {
            run.config().addTrainingListeners(
                    "logging".equals(args[2]) ? TrainingListener.Defaults.logging() : TrainingListener.Defaults.basic());
            try (Trainer t = run.newTrainer()) {
                try {
                    run.fit(t);
                } catch (TrainingDivergedException e) {
                    System.out.println("DIVERGED " + e.getClass().getName() + ": " + e.getMessage());
                }
                System.out.println("RESULT " + run.evalLoss(t));
            }
        }
    }
}
