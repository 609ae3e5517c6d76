package io.gradguard.models;

import ai.djl.training.Trainer;
import java.util.Locale;

/**
 * Re-tunes a scenario: trains it unguarded at a list of learning rates and prints the final
 * evaluation loss of each. This is how each scenario's reference learning rate was chosen.
 *
 * <p>Usage: {@code ScenarioSweep <scenario-name> <variant> <lr> [<lr> ...]}
 */
public final class ScenarioSweep {

    private ScenarioSweep() {}

    /**
     * Entry point.
     *
     * @param args scenario name, variant ({@code EXPLODING} or {@code REFERENCE}), learning rates
     */
    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: ScenarioSweep <scenario> <EXPLODING|REFERENCE> <lr>...  scenarios: "
                    + Scenarios.names());
            System.exit(2);
        }
        Scenario scenario = Scenarios.byName(args[0]);
        Variant variant = Variant.valueOf(args[1]);
        for (int i = 2; i < args.length; i++) {
            float lr = Float.parseFloat(args[i]);
            long t0 = System.nanoTime();
            try (ScenarioRun run = scenario.open(variant, lr);
                    Trainer trainer = run.newTrainer()) {
                run.trainByHand(trainer, (t, loss) -> t.step());
                float eval = run.evalLoss(trainer);
                System.out.printf(Locale.ROOT, "%s %s lr=%g eval_loss=%g (%.1f s)%n",
                        scenario.name(), variant, lr, eval, (System.nanoTime() - t0) / 1e9);
            }
        }
    }
}
