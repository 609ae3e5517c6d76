package io.gradguard.samples;

import ai.djl.training.Trainer;
import io.gradguard.cli.Reports;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.diagnose.RunDiagnosis;
import io.gradguard.djl.GradGuardListener;
import io.gradguard.djl.LrFinder;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.Scenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Explaining a run: a learning-rate range test on the model, then a guarded run of the same model at a
 * learning rate 5x too high with an event log, the diagnosis (which quotes the range test) and the HTML
 * report. Writes {@code target/explain-run.jsonl} and {@code target/explain-report.html}; the same page
 * comes from {@code java -jar cli/target/gradguard-cli.jar report samples/target/explain-run.jsonl}.
 */
public final class ExplainSample {

    private ExplainSample() {}

    /**
     * Entry point.
     *
     * @param args optional: the output folder (default {@code target})
     * @throws Exception from DJL or the file system
     */
    public static void main(String[] args) throws Exception {
        Path out = Files.createDirectories(Path.of(args.length > 0 ? args[0] : "target"));
        Path log = out.resolve("explain-run.jsonl");
        Files.deleteIfExists(log);
        Scenario s = new DeepMlpScenario();
        LrFinder.Result range;
        try (ScenarioRun run = s.open(Variant.REFERENCE); Trainer t = run.newTrainer()) {
            range = LrFinder.builder().minLr(1e-5).maxLr(10).steps(80).build().run(t, run.dataset());
        }
        System.out.println(range);
        System.out.printf("training %s at lr %.3g (5x the tuned %.3g), guarded, log %s%n", s.name(),
                s.learningRate(Variant.EXPLODING), s.learningRate(Variant.REFERENCE), log);
        try (GradGuardListener guard = new GradGuardListener(GuardConfig.custom().log(log).build());
                ScenarioRun run = s.open(Variant.EXPLODING); Trainer t = run.newTrainer(guard)) {
            guard.guard().lrRange(range.toLrRange());
            run.fit(t);
            System.out.printf("eval loss %.4f (the tuned reference ends at %.4f)%n", run.evalLoss(t), s.documentedReferenceLoss());
        }
        Path html = out.resolve("explain-report.html");
        RunDiagnosis d = Reports.html(log, html);
        System.out.println(d.text());
        System.out.println("report: " + html.toAbsolutePath());
    }
}
