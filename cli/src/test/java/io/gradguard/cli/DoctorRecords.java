package io.gradguard.cli;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.gradguard.djl.doctor.Doctor;
import io.gradguard.djl.doctor.DoctorResult;
import io.gradguard.models.BadInitScenario;
import io.gradguard.models.SafeOps;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.nio.file.Path;

/**
 * Real doctor records for the tests: the {@link Doctor} run on the zoo's bad initialization (16 ReLU layers at twice
 * He's variance, SGD momentum 0.9), the exploding variant, on the PyTorch engine, with a small budget.
 */
final class DoctorRecords {

    private static DoctorResult cached;
    private static String cachedJson;

    private DoctorRecords() {}

    /**
     * Writes the record of the doctor on {@code deep-mlp-bad-init} (exploding) to a file; the doctor runs once per
     * test JVM (about 60 trial steps and a 40-step range test) and its record is reused.
     *
     * @param file where to write the record
     * @return the doctor's result
     */
    static synchronized DoctorResult badInit(Path file) throws Exception {
        if (cached == null) {
            Scenario s = new BadInitScenario();
            try (ScenarioRun run = s.open(Variant.EXPLODING)) {
                cached = Doctor.builder()
                        .model(() -> {
                            try (ScenarioRun r = s.open(Variant.EXPLODING)) {
                                return r.model().getBlock();
                            }
                        })
                        .config(DoctorRecords::config).learningRate(s.learningRate(Variant.EXPLODING))
                        .data(run.dataset()).inputShape(new Shape(32, 16)).plannedSteps(s.steps()).budgetSteps(60)
                        .lrFinderSteps(40).build().run();
            }
            cachedJson = cached.toJson() + "\n";
        }
        java.nio.file.Files.writeString(file, cachedJson);
        return cached;
    }

    private static DefaultTrainingConfig config(double lr) {
        return new DefaultTrainingConfig(SafeOps.l2Loss()).optOptimizer(Optimizer.sgd()
                .setLearningRateTracker(Tracker.fixed((float) lr)).optMomentum(0.9f).build());
    }
}
