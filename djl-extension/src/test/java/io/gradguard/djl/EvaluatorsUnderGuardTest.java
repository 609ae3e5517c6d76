package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.metric.Metric;
import ai.djl.metric.Metrics;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.listener.EpochTrainingListener;
import ai.djl.training.listener.EvaluatorTrainingListener;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.listener.TrainingListenerAdapter;
import ai.djl.training.loss.Loss;
import io.gradguard.core.Action;
import io.gradguard.core.Decision;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.event.GuardListener;
import io.gradguard.core.event.RunSummary;
import io.gradguard.core.event.StepRecord;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * DJL's evaluators, {@link EvaluatorTrainingListener} and {@code Trainer.getTrainingResult()} under the guard, on
 * the real PyTorch engine (the deep MLP, two epochs of 50 batches, a 10-batch validation slice, the L2 training
 * loss and an L1 evaluator, metrics on). On a healthy run every evaluator value and metric is bit-identical with
 * and without the guard, whatever the listener order and for the loop guard too. On an exploding run the guard
 * hands DJL's evaluators only the batches it trained on, once it has decided on them: the epoch's numbers are
 * finite where DJL alone reports NaN.
 */
class EvaluatorsUnderGuardTest {

    private static final int BATCHES = 50;
    private static final int EPOCHS = 2;
    private static final String TRAIN_ALL = "train_all_L2Loss";

    /** How the guard is attached. */
    private enum Attach { NONE, LISTENER_LAST, LISTENER_FIRST, LOOP_BARE, LOOP_GUARD }

    /** What DJL recorded: the training result, every evaluator metric, and the guard's steps. */
    private record Observed(Map<String, Float> result, int epoch, Map<String, List<Float>> metrics,
            List<StepRecord> steps, RunSummary summary) {

        List<Float> metric(String name) {
            return metrics.getOrDefault(name, List.of());
        }
    }

    private static Observed fit(Variant v, Attach how) throws Exception {
        List<StepRecord> steps = new ArrayList<>();
        GuardListener recorder = new GuardListener() {
            @Override
            public void onStep(StepRecord r) {
                steps.add(r);
            }
        };
        GradGuardListener listener = new GradGuardListener(GuardConfig.ofDefaults()).addGuardListener(recorder);
        try (ScenarioRun run = ListenerRuns.MLP.open(v);
                DjlGuard loopGuard = new DjlGuard(GuardConfig.ofDefaults()).addGuardListener(recorder)) {
            run.config().addEvaluator(Loss.l1Loss("l1"));
            if (how == Attach.LISTENER_FIRST) {
                run.config().addTrainingListeners(listener);
            }
            run.config().addTrainingListeners(new EpochTrainingListener(), new EvaluatorTrainingListener());
            if (how == Attach.LISTENER_LAST) {
                run.config().addTrainingListeners(listener);
            }
            RandomAccessDataset train = ListenerRuns.firstBatches(run, BATCHES);
            RandomAccessDataset validation = ListenerRuns.slice(run, 250, 10);
            try (Trainer t = run.newTrainer()) {
                t.setMetrics(new Metrics());
                if (how == Attach.LOOP_BARE || how == Attach.LOOP_GUARD) {
                    if (how == Attach.LOOP_GUARD) {
                        loopGuard.attach(t);
                    }
                    // EasyTrain.fit's own loop, with the loop guard's step in place of trainer.step()
                    for (int e = 0; e < EPOCHS; e++) {
                        for (Batch b : t.iterateDataset(train)) {
                            try (b) {
                                EasyTrain.trainBatch(t, b);
                                if (how == Attach.LOOP_GUARD) {
                                    loopGuard.step(t);
                                } else {
                                    t.step();
                                }
                            }
                        }
                        EasyTrain.evaluateDataset(t, validation);
                        t.notifyListeners(l -> l.onEpoch(t));
                    }
                } else {
                    EasyTrain.fit(t, EPOCHS, train, validation);
                }
                Map<String, List<Float>> metrics = new TreeMap<>();
                for (String name : t.getMetrics().getMetricNames()) {
                    if (name.startsWith("train_") || name.startsWith("validate_")) {
                        metrics.put(name, t.getMetrics().getMetric(name).stream().map(Metric::getValue)
                                .map(Number::floatValue).toList());
                    }
                }
                RunSummary summary = how == Attach.LOOP_GUARD ? loopGuard.summary() : listener.summary();
                return new Observed(Map.copyOf(t.getTrainingResult().getEvaluations()),
                        t.getTrainingResult().getEpoch(), metrics, steps, summary);
            }
        }
    }

    @Test
    void healthyRunRecordsBitIdenticalEvaluationsWithAndWithoutTheGuard() throws Exception {
        Observed bare = fit(Variant.REFERENCE, Attach.NONE);
        assertThat(bare.epoch()).isEqualTo(EPOCHS);
        assertThat(bare.metric(TRAIN_ALL)).hasSize(EPOCHS * BATCHES);
        assertThat(bare.metric("validate_epoch_l1")).hasSize(EPOCHS);
        assertThat(bare.result()).containsKeys("train_loss", "validate_loss", "train_l1", "validate_l1");
        assertThat(bare.result().get("validate_loss")).isFinite();
        for (Attach how : new Attach[] {Attach.LISTENER_LAST, Attach.LISTENER_FIRST, Attach.LOOP_BARE, Attach.LOOP_GUARD}) {
            Observed o = fit(Variant.REFERENCE, how);
            assertThat(o.result()).as("%s: getTrainingResult()", how).isEqualTo(bare.result());
            assertThat(o.epoch()).as("%s", how).isEqualTo(bare.epoch());
            assertThat(o.metrics()).as("%s: every evaluator metric", how).isEqualTo(bare.metrics());
            if (how != Attach.LOOP_BARE) {
                assertThat(o.summary().intervened()).as("%s: the guard did nothing", how).isFalse();
                assertThat(o.steps()).hasSize(EPOCHS * BATCHES);
            }
        }
    }

    @Test
    void explodingRunCountsOnlyTheBatchesTheGuardTrainedOn() throws Exception {
        Observed bare = fit(Variant.EXPLODING, Attach.NONE);
        assertThat(bare.result().get("train_loss")).as("DJL alone: the epoch's training loss").isNaN();
        assertThat(bare.result().get("validate_loss")).isNaN();
        assertThat(bare.metric(TRAIN_ALL)).hasSize(EPOCHS * BATCHES);

        Observed guarded = fit(Variant.EXPLODING, Attach.LISTENER_LAST);
        List<Float> applied = guarded.steps().stream()
                .filter(s -> s.action() == Action.STEP || s.action() == Action.CLIP)
                .map(s -> (float) s.loss()).toList();
        assertThat(guarded.summary().rollbacks()).isPositive();
        assertThat(applied.size()).isLessThan(EPOCHS * BATCHES);
        // each batch the guard trained on, and only those, with the loss the guard measured on it
        assertThat(guarded.metric(TRAIN_ALL)).isEqualTo(applied);
        assertThat(guarded.result().get("train_loss")).isFinite();
        assertThat(guarded.result().get("validate_loss")).isFinite();
        assertThat(guarded.result().get("validate_l1")).isFinite();
        // the epoch's training loss is the mean over the batches of the last epoch that were trained on
        int firstOfLast = guarded.steps().stream().filter(s -> s.step() < BATCHES)
                .filter(s -> s.action() == Action.STEP || s.action() == Action.CLIP).mapToInt(s -> 1).sum();
        double mean = applied.subList(firstOfLast, applied.size()).stream().mapToDouble(Float::doubleValue).average().orElseThrow();
        assertThat((double) guarded.result().get("train_loss")).isCloseTo(mean, org.assertj.core.data.Percentage.withPercentage(1e-4));
        // validation is not deferred: one value per epoch, as without the guard
        assertThat(guarded.metric("validate_epoch_L2Loss")).hasSize(EPOCHS);
    }

    /** Counts the per-batch evaluator metric when it is called. */
    private static final class SeenCount extends TrainingListenerAdapter {
        final List<Integer> counts = new ArrayList<>();

        @Override
        public void onTrainingBatch(Trainer trainer, BatchData batchData) {
            counts.add(count(trainer));
        }

        static int count(Trainer t) {
            return t.getMetrics().hasMetric(TRAIN_ALL) ? t.getMetrics().getMetric(TRAIN_ALL).size() : 0;
        }
    }

    @Test
    void aBatchReachesTheEvaluatorsOnceTheGuardHasDecidedOnIt() throws Exception {
        // listener: evaluator listener, then a probe, then the guard, then a probe
        List<Boolean> appliedByListener = new ArrayList<>();
        SeenCount between = new SeenCount();
        SeenCount after = new SeenCount();
        try (ScenarioRun run = ListenerRuns.MLP.open(Variant.EXPLODING)) {
            GradGuardListener guard = new GradGuardListener(GuardConfig.ofDefaults()).addGuardListener(new GuardListener() {
                @Override
                public void onStep(StepRecord r) {
                    appliedByListener.add(r.action() == Action.STEP || r.action() == Action.CLIP);
                }
            });
            run.config().addTrainingListeners(new EvaluatorTrainingListener(), between, guard, after);
            try (Trainer t = run.newTrainer()) {
                t.setMetrics(new Metrics());
                EasyTrain.fit(t, 1, ListenerRuns.firstBatches(run, BATCHES), null);
            }
        }
        int applied = 0;
        for (int i = 0; i < BATCHES; i++) {
            assertThat(between.counts.get(i)).as("batch %d, a listener between the evaluators and the guard", i).isEqualTo(applied);
            applied += appliedByListener.get(i) ? 1 : 0;
            assertThat(after.counts.get(i)).as("batch %d, a listener after the guard", i).isEqualTo(applied);
        }
        assertThat(applied).as("some batches not trained on").isLessThan(BATCHES);

        // loop guard: after EasyTrain.trainBatch nothing is recorded yet; guard.step records the batch it applied
        try (ScenarioRun run = ListenerRuns.MLP.open(Variant.EXPLODING);
                DjlGuard guard = new DjlGuard(GuardConfig.ofDefaults())) {
            run.config().addTrainingListeners(new EvaluatorTrainingListener());
            try (Trainer t = run.newTrainer()) {
                t.setMetrics(new Metrics());
                guard.attach(t);
                int recorded = 0;
                int skipped = 0;
                for (Batch b : t.iterateDataset(ListenerRuns.firstBatches(run, BATCHES))) {
                    try (b) {
                        EasyTrain.trainBatch(t, b);
                        assertThat(SeenCount.count(t)).as("after trainBatch").isEqualTo(recorded);
                        Decision d = guard.step(t);
                        recorded += d.applies() ? 1 : 0;
                        skipped += d.applies() ? 0 : 1;
                        assertThat(SeenCount.count(t)).as("after guard.step (%s)", d.action()).isEqualTo(recorded);
                    }
                }
                assertThat(skipped).as("the loop guard held some batches back").isPositive();
            }
        }
    }
}
