package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.metric.Metric;
import ai.djl.metric.Metrics;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.listener.MemoryTrainingListener;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.event.RunSummary;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DJL's {@link MemoryTrainingListener} under the guard, on the real PyTorch engine (the deep MLP, exploding
 * variant, two epochs of 20 batches, a 5-batch validation slice, {@code -Dcollect-memory=true}): it records heap,
 * non-heap, CPU and RSS for every training and validation batch, skipped and rolled-back ones included (the guard
 * only stands in for DJL's divergence check and evaluator listener), and writes its {@code memory.log} when the
 * trainer closes, as without the guard.
 */
class MemoryListenerUnderGuardTest {

    private static final int BATCHES = 20;
    private static final int VALIDATION = 5;
    private static final int EPOCHS = 2;
    private static final List<String> RECORDED = List.of("Heap", "NonHeap", "cpu", "rss");

    @TempDir
    Path dir;

    /** What one run recorded. */
    private record Recorded(Metrics metrics, float evalLoss, RunSummary summary) {}

    private static Recorded fit(boolean guarded, Path out) throws Exception {
        GradGuardListener guard = new GradGuardListener(GuardConfig.ofDefaults());
        try (ScenarioRun run = ListenerRuns.MLP.open(Variant.EXPLODING)) {
            run.config().addTrainingListeners(new MemoryTrainingListener(out.toString()));
            if (guarded) {
                run.config().addTrainingListeners(guard);
            }
            Metrics metrics = new Metrics();
            float loss;
            try (Trainer t = run.newTrainer()) {
                t.setMetrics(metrics);
                EasyTrain.fit(t, EPOCHS, ListenerRuns.firstBatches(run, BATCHES), ListenerRuns.slice(run, 250, VALIDATION));
                loss = run.evalLoss(t);
            }
            return new Recorded(metrics, loss, guard.summary());
        }
    }

    @Test
    void memoryMetricsAreRecordedForEveryBatchUnderTheGuard() throws Exception {
        String before = System.getProperty("collect-memory");
        System.setProperty("collect-memory", "true");
        try {
            Recorded bare = fit(false, dir.resolve("bare"));
            assertThat(bare.evalLoss()).as("unguarded").isNaN();
            Recorded guarded = fit(true, dir.resolve("guarded"));
            assertThat(guarded.evalLoss()).isFinite();
            assertThat(guarded.summary().skipped() + guarded.summary().rollbacks()).as("batches not trained on").isPositive();

            int perRun = EPOCHS * (BATCHES + VALIDATION);
            for (String name : RECORDED) {
                assertThat(bare.metrics().getMetric(name)).as("%s, unguarded", name).hasSize(perRun);
                List<Metric> m = guarded.metrics().getMetric(name);
                assertThat(m).as("%s, guarded", name).hasSize(perRun);
                assertThat(m).allMatch(x -> x.getValue().doubleValue() >= 0);
            }
            assertThat(guarded.metrics().getMetric("Heap")).allMatch(x -> x.getValue().longValue() > 0);
            List<String> log = Files.readAllLines(dir.resolve("guarded").resolve("memory.log"));
            assertThat(log).hasSize(RECORDED.size() * perRun);
            assertThat(log).anyMatch(l -> l.contains("Heap")).anyMatch(l -> l.contains("rss"));
            assertThat(Files.readAllLines(dir.resolve("bare").resolve("memory.log"))).hasSameSizeAs(log);
        } finally {
            if (before == null) {
                System.clearProperty("collect-memory");
            } else {
                System.setProperty("collect-memory", before);
            }
        }
    }
}
