package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.MultiFactorTracker;
import io.gradguard.core.Action;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.event.EventKind;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.event.GuardListener;
import io.gradguard.core.event.StepRecord;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/**
 * A user's DJL learning-rate schedule, {@link MultiFactorTracker} (halve at updates 40 and 80), under the guard,
 * on the real PyTorch engine: the 10-layer MLP with plain SGD, so that the rate each update really used can be
 * read off the weights ({@link UpdateProbe}). On a healthy run the guard leaves the schedule alone: the same
 * schedule values and the same rates, update by update, as without it. On an exploding run (5x the tuned rate,
 * NaN without the guard; rolled back at steps 4 and 9, scale 0.027 re-warming to 0.09) the guard's learning-rate
 * scale multiplies the schedule, it does not replace it: every applied update used schedule × scale (the check
 * would also take a clip coefficient, but this run has no clipped step), and the schedule's own steps still come
 * after the cut. A rollback restores the optimizer's update count with the rest of its state, so the schedule,
 * which DJL indexes by that count, is rewound to the snapshot with it (here both rollbacks go back to update 0, so
 * the halvings come at steps 50 and 90 instead of 40 and 80).
 */
class LrScheduleUnderGuardTest {

    private static final DeepMlpScenario PLAIN_SGD = new DeepMlpScenario(0.02f, 5f, false);
    private static final int STEPS = 120;
    private static final int[] BOUNDARIES = {40, 80};

    /** One run: the probe's measurements and the guard's step records and rollbacks. */
    private record Run(List<UpdateProbe.Step> probe, List<StepRecord> steps, List<GuardEvent> rollbacks, float evalLoss) {}

    /**
     * @param how null (unguarded), "listener" (EasyTrain.fit) or "loop" (DjlGuard)
     */
    private static Run train(Variant v, String how) {
        float base = PLAIN_SGD.learningRate(v);
        UpdateProbe probe = new UpdateProbe();
        List<StepRecord> steps = new ArrayList<>();
        List<GuardEvent> rollbacks = new ArrayList<>();
        GuardListener recorder = new GuardListener() {
            @Override
            public void onStep(StepRecord r) {
                steps.add(r);
            }

            @Override
            public void onEvent(GuardEvent e) {
                if (e.kind() == EventKind.ROLLBACK) {
                    rollbacks.add(e);
                }
            }
        };
        try (ScenarioRun run = PLAIN_SGD.open(v);
                DjlGuard loop = new DjlGuard(GuardConfig.ofDefaults()).addGuardListener(recorder)) {
            MultiFactorTracker schedule = MultiFactorTracker.builder().setBaseValue(base).setSteps(BOUNDARIES).optFactor(0.5f).build();
            run.config().optOptimizer(Optimizer.sgd().setLearningRateTracker(probe.schedule(schedule)).build());
            run.config().addTrainingListeners(probe.beforeGuard());
            if ("listener".equals(how)) {
                run.config().addTrainingListeners(new GradGuardListener(GuardConfig.ofDefaults()).addGuardListener(recorder));
            }
            if (!"loop".equals(how)) {
                run.config().addTrainingListeners(probe.afterGuard());
            }
            try (Trainer t = run.newTrainer()) {
                if ("loop".equals(how)) {
                    run.trainByHand(t, (tr, loss) -> {
                        probe.before(tr);
                        loop.step(tr, loss);
                        probe.after(tr);
                    }, STEPS);
                } else {
                    EasyTrain.fit(t, 1, ListenerRuns.firstBatches(run, STEPS), null);
                }
                return new Run(probe.steps(), steps, rollbacks, run.evalLoss(t));
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** What the schedule says for an update count, from its definition. */
    private static float scheduled(float base, int numUpdate) {
        float v = base;
        for (int b : BOUNDARIES) {
            if (numUpdate > b) {
                v *= 0.5f;
            }
        }
        return v;
    }

    @Test
    void healthyRunLeavesTheScheduleAlone() {
        float base = PLAIN_SGD.learningRate(Variant.REFERENCE);
        Run bare = train(Variant.REFERENCE, null);
        assertThat(bare.probe()).hasSize(STEPS);
        for (int s = 0; s < STEPS; s++) {
            UpdateProbe.Step p = bare.probe().get(s);
            assertThat(p.numUpdate()).isEqualTo(s + 1);
            assertThat(p.scheduled()).isEqualTo(scheduled(base, s + 1));
            assertThat(p.lr()).as("step %d: the measured rate is the schedule's", s).isCloseTo(p.scheduled(), Offset.offset(1e-3 * p.scheduled()));
        }
        assertThat(bare.probe().get(STEPS - 1).scheduled()).as("the schedule stepped twice").isEqualTo(base / 4);
        for (String how : new String[] {"listener", "loop"}) {
            Run guarded = train(Variant.REFERENCE, how);
            assertThat(guarded.steps()).hasSize(STEPS).allMatch(r -> r.action() == Action.STEP && r.lrScale() == 1.0);
            assertThat(guarded.probe()).as("%s: same schedule values and rates, update by update", how).isEqualTo(bare.probe());
        }
    }

    @Test
    void explodingRunScalesTheScheduleWithoutReplacingIt() {
        float base = PLAIN_SGD.learningRate(Variant.EXPLODING);
        assertThat(train(Variant.EXPLODING, null).evalLoss()).as("unguarded").isNaN();
        for (String how : new String[] {"listener", "loop"}) {
            Run r = train(Variant.EXPLODING, how);
            assertThat(r.evalLoss()).as(how).isFinite();
            assertThat(r.rollbacks()).as(how).isNotEmpty();
            assertThat(r.steps()).hasSize(STEPS);
            int lastRollback = (int) r.rollbacks().get(r.rollbacks().size() - 1).step();
            for (int s = 0; s < STEPS; s++) {
                StepRecord g = r.steps().get(s);
                UpdateProbe.Step p = r.probe().get(s);
                if (g.action() == Action.STEP || g.action() == Action.CLIP) {
                    // schedule x scale (x clip): the user's schedule, multiplied
                    double expected = p.scheduled() * g.lrScale() * g.clipCoef();
                    assertThat(p.lr()).as("%s step %d (%s)", how, s, g).isCloseTo(expected, Offset.offset(1e-3 * expected));
                    assertThat(p.scheduled()).isEqualTo(scheduled(base, p.numUpdate()));
                } else {
                    assertThat(p.scheduled()).as("%s step %d (%s): no update, schedule not consulted", how, s, g).isNull();
                }
            }
            // a rollback rewinds the update count to the snapshot's: the next update has the count the snapshot step's had
            for (GuardEvent rb : r.rollbacks()) {
                int to = ((Number) rb.data().get("to_step")).intValue();
                UpdateProbe.Step next = r.probe().subList((int) rb.step() + 1, STEPS).stream()
                        .filter(p -> p.numUpdate() != null).findFirst().orElseThrow();
                assertThat(next.numUpdate()).as("%s: after %s", how, rb).isEqualTo(r.probe().get(to).numUpdate());
            }
            // after the last rollback the schedule advances through both of its steps, under a scale below 1
            List<Integer> counts = new ArrayList<>();
            for (int s = lastRollback + 1; s < STEPS; s++) {
                if (r.probe().get(s).numUpdate() != null) {
                    counts.add(r.probe().get(s).numUpdate());
                }
            }
            assertThat(counts).as(how).isSorted().doesNotHaveDuplicates();
            assertThat(counts.get(counts.size() - 1)).as("%s: past the last boundary", how).isGreaterThan(BOUNDARIES[1]);
            assertThat(r.probe().get(STEPS - 1).scheduled()).isEqualTo(base / 4);
            assertThat(r.steps().get(STEPS - 1).lrScale()).as("%s: the cut still applies", how).isLessThan(1.0);
        }
    }
}
