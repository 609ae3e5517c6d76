package io.gradguard.samples;

import ai.djl.TrainingDivergedException;
import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListener;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.event.RunSummary;
import io.gradguard.djl.GradGuardListener;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The main demo: a deep plain MLP trained with SGD + momentum at five times its tuned learning rate,
 * with DJL's default listeners. Unguarded, DJL aborts with {@code TrainingDivergedException}; with one
 * {@link GradGuardListener} added, the run recovers. Prints a side-by-side summary and the event log path.
 *
 * <p>Usage: {@code Demo [log-path]} (default {@code target/gradguard-demo.jsonl}).
 */
public final class Demo {

    private Demo() {}

    /**
     * Entry point.
     *
     * @param args optional event log path
     */
    public static void main(String[] args) {
        Path log = Path.of(args.length > 0 ? args[0] : "target/gradguard-demo.jsonl").toAbsolutePath();
        Scenario scenario = new DeepMlpScenario();
        System.out.println("GradGuard demo: " + scenario.cause());
        System.out.println();

        System.out.printf(Locale.ROOT, "[1/3] reference: tuned learning rate %.3g ...%n", scenario.learningRate(Variant.REFERENCE));
        float reference = train(scenario, Variant.REFERENCE, null).loss;

        System.out.printf(Locale.ROOT, "[2/3] unguarded at learning rate %.3g (EasyTrain + TrainingListener.Defaults.basic()) ...%n",
                scenario.learningRate(Variant.EXPLODING));
        Outcome bare = train(scenario, Variant.EXPLODING, null);

        System.out.printf(Locale.ROOT, "[3/3] same run + new GradGuardListener() ...%n");
        GradGuardListener guard = new GradGuardListener(GuardConfig.custom().log(log).build());
        Outcome guarded = train(scenario, Variant.EXPLODING, guard);
        RunSummary summary = guard.summary();

        System.out.println();
        System.out.println("                     final eval loss   outcome");
        System.out.printf(Locale.ROOT, "  reference          %-17s %s%n", fmt(reference), "tuned, stable");
        System.out.printf(Locale.ROOT, "  unguarded          %-17s %s%n", fmt(bare.loss), bare.outcome);
        System.out.printf(Locale.ROOT, "  with GradGuard     %-17s %s%n", fmt(guarded.loss), guarded.outcome + "; " + summary);
        System.out.println();
        System.out.println("Event log (JSONL): " + log);
    }

    private record Outcome(float loss, String outcome) {}

    private static Outcome train(Scenario scenario, Variant variant, GradGuardListener guard) {
        try (ScenarioRun run = scenario.open(variant)) {
            run.config().addTrainingListeners(TrainingListener.Defaults.basic());
            if (guard != null) {
                run.config().addTrainingListeners(guard);
            }
            try (Trainer trainer = run.newTrainer()) {
                String outcome = "completed";
                try {
                    run.fit(trainer);
                } catch (TrainingDivergedException e) {
                    outcome = "DJL aborted: " + e.getClass().getSimpleName() + " (\"" + e.getMessage().split(",")[0] + "\")";
                }
                return new Outcome(run.evalLoss(trainer), outcome);
            }
        }
    }

    private static String fmt(float v) {
        return Float.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : Float.toString(v);
    }
}
