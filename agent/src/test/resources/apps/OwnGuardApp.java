import ai.djl.training.Trainer;
import io.gradguard.core.GuardConfig;
import io.gradguard.djl.DjlGuard;
import io.gradguard.djl.GradGuardListener;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Scenarios;
import io.gradguard.models.Variant;

/** An app that guards itself (listener or loop guard). Args: scenario listener|loop. */
public class OwnGuardApp {
    public static void main(String[] args) {
        Scenario s = Scenarios.byName(args[0]);
        try (ScenarioRun run = s.open(Variant.EXPLODING)) {
            if ("listener".equals(args[1])) {
                GradGuardListener l = new GradGuardListener(GuardConfig.ofDefaults());
                run.config().addTrainingListeners(l);
                try (Trainer t = run.newTrainer()) {
                    run.fit(t);
                    System.out.println("RESULT " + run.evalLoss(t));
                    System.out.println("OWN " + l.summary().steps());
                }
            } else {
                try (Trainer t = run.newTrainer(); DjlGuard g = new DjlGuard(GuardConfig.ofDefaults())) {
                    run.trainByHand(t, g::step);
                    System.out.println("RESULT " + run.evalLoss(t));
                    System.out.println("OWN " + g.summary().steps());
                }
            }
        }
    }
}
