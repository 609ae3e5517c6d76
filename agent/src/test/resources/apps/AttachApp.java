import ai.djl.TrainingDivergedException;
import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListener;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Scenarios;
import io.gradguard.models.Variant;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An app that is already running (DJL's Trainer class loaded) when the agent is attached to it. It
 * prints its pid, waits for the file named by its first argument, then trains.
 */
public class AttachApp {
    public static void main(String[] args) throws Exception {
        Class.forName("ai.djl.training.Trainer");
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        Path go = Path.of(args[0]);
        for (int i = 0; i < 1200 && !Files.exists(go); i++) {
            Thread.sleep(50);
        }
        try (ScenarioRun run = Scenarios.byName("deep-mlp-sgd-momentum-lr5x").open(Variant.EXPLODING)) {
            run.config().addTrainingListeners(TrainingListener.Defaults.basic());
            try (Trainer t = run.newTrainer()) {
                try {
                    run.fit(t);
                } catch (TrainingDivergedException e) {
                    System.out.println("DIVERGED " + e.getMessage());
                }
                System.out.println("RESULT " + run.evalLoss(t));
            }
        }
    }
}
