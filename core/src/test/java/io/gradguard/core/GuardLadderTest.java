package io.gradguard.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gradguard.core.event.EventKind;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.event.GuardListener;
import io.gradguard.core.event.StepRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The decision ladder on synthetic norm and loss streams: no engine, microseconds per step. */
class GuardLadderTest {

    private static final RunInfo RUN = new RunInfo("test", "cpu()", "unit",
            List.of(new RunInfo.Parameter("layer0.weight", 100), new RunInfo.Parameter("layer1.weight", 10)), Map.of());

    private static final class Recorder implements GuardListener {
        final List<GuardEvent> events = new ArrayList<>();
        final List<StepRecord> steps = new ArrayList<>();

        @Override
        public void onEvent(GuardEvent e) {
            events.add(e);
        }

        @Override
        public void onStep(StepRecord r) {
            steps.add(r);
        }

        List<GuardEvent> of(EventKind kind) {
            return events.stream().filter(e -> e.kind() == kind).toList();
        }
    }

    /**
     * The ladder's mechanics with round numbers, independent of the tuned defaults: spikes from 2x typical,
     * cuts to half, re-warm to three quarters of the ceiling.
     */
    private static GuardConfig.Builder mechanics() {
        // the stall cut is off: these tests follow the re-warm on a flat synthetic loss, which it would halve; the calm
        // floor is off (spike.calm at spike.ratio): every spike counts from 2x
        return GuardConfig.custom().spikeRatio(2.0).spikeCalm(2.0).rollbackCut(0.5).rewarmTarget(0.75).stallSteps(0);
    }

    private static Guard guard(GuardConfig config, Recorder rec) {
        Guard g = new Guard(config);
        g.addListener(rec);
        g.begin(RUN);
        return g;
    }

    /** A norm split over the two parameters, the second one carrying {@code share} of the square. */
    private static StepStats stats(long step, double norm, double loss, double share) {
        return StepStats.of(step, loss, true, new double[] {norm * Math.sqrt(1 - share), norm * Math.sqrt(share)});
    }

    private static Decision feed(Guard g, long step, double norm, double loss) {
        return g.decide(stats(step, norm, loss, 0.5), null);
    }

    @Test
    void spikeIsClippedOnTheStepItHappens() {
        Recorder rec = new Recorder();
        Guard g = guard(mechanics().build(), rec);
        Random rng = new Random(7);
        for (int step = 0; step < 500; step++) {
            double norm = Math.exp(0.2 * rng.nextGaussian());
            assertThat(feed(g, step, norm, 1.0).applies()).isTrue();
            assertThat(g.state()).isEqualTo(GuardState.HEALTHY);
        }
        // a spike concentrated in layer1: 8x the typical norm
        Decision d = g.decide(stats(500, 8.0, 1.0, 0.99), null);
        assertThat(d.action()).isEqualTo(Action.CLIP);
        assertThat(d.clipCoef()).isBetween(0.1, 0.5);
        assertThat(g.state()).isEqualTo(GuardState.CLIPPING);
        GuardEvent spike = rec.of(EventKind.SPIKE).get(0);
        assertThat(spike.step()).isEqualTo(500);
        assertThat(spike.param()).isEqualTo("layer1.weight");
        assertThat(feed(g, 501, 1.0, 1.0).action()).isEqualTo(Action.STEP);
        assertThat(g.state()).isEqualTo(GuardState.HEALTHY);
    }

    @Test
    void noisyHealthyStreamOf100kStepsRaisesNoAlarm() {
        Recorder rec = new Recorder();
        Guard g = guard(GuardConfig.ofDefaults(), rec);
        Random rng = new Random(42);
        int interventions = 0;
        for (int step = 0; step < 100_000; step++) {
            // early transient (norms 30x higher, decaying), then a slow drift, log-normal batch noise
            // (sigma 0.35, i.e. +-40% typical), and a noisy loss that falls slowly
            double trend = 1 + 29 * Math.exp(-step / 30.0);
            double drift = Math.exp(0.5 * Math.sin(step / 5000.0));
            double norm = trend * drift * Math.exp(0.35 * rng.nextGaussian());
            double loss = (0.2 + 2 * Math.exp(-step / 2000.0)) * Math.exp(0.3 * rng.nextGaussian());
            Decision d = feed(g, step, norm, loss);
            if (d.action() != Action.STEP) {
                interventions++;
            }
        }
        assertThat(interventions).as("false positives").isZero();
        assertThat(rec.of(EventKind.SPIKE)).isEmpty();
        assertThat(rec.of(EventKind.LOSS_SPIKE)).isEmpty();
        assertThat(g.summary().intervened()).isFalse();
        // snapshots follow the loss down every 50 healthy steps, and keep coming on the plateau, where the loss
        // no longer improves by 5%, every 10 x 50 steps or so (when the loss is not 5% above the last one)
        List<GuardEvent> snaps = rec.of(EventKind.SNAPSHOT);
        assertThat(snaps).hasSizeGreaterThan(190);
        for (int i = 1; i < snaps.size(); i++) {
            assertThat(snaps.get(i).step() - snaps.get(i - 1).step()).as("gap before snapshot %d", i).isLessThanOrEqualTo(1000);
        }
    }

    @Test
    void nonFiniteStepIsSkippedNamingTheParameter() {
        Recorder rec = new Recorder();
        Guard g = guard(mechanics().build(), rec);
        for (int step = 0; step < 30; step++) {
            feed(g, step, 1.0, 1.0);
        }
        Decision d = g.decide(StepStats.of(30, Double.NaN, true, new double[] {1.0, Double.POSITIVE_INFINITY}), null);
        assertThat(d.action()).isEqualTo(Action.SKIP);
        GuardEvent e = rec.of(EventKind.NONFINITE).get(0);
        assertThat(e.param()).isEqualTo("layer1.weight");
        assertThat(e.detail()).contains("loss is NaN").contains("non-finite gradients in 1 parameter: layer1.weight");
        assertThat(feed(g, 31, 1.0, 1.0).action()).isEqualTo(Action.STEP);
    }

    /** A loss that improves 1% a step: snapshots follow it. */
    private static double improving(long step) {
        return Math.pow(0.99, step);
    }

    @Test
    void repeatedNonFiniteStepsRollBackAndCutTheLearningRate() {
        Recorder rec = new Recorder();
        Guard g = guard(mechanics().build(), rec);
        Decision first = feed(g, 0, 1.0, 1.0);
        assertThat(first.snapshot()).as("a first snapshot is taken on the first healthy step").isTrue();
        for (int step = 1; step < 60; step++) {
            feed(g, step, 1.0, improving(step));
        }
        assertThat(g.snapshotStep()).isEqualTo(50);
        assertThat(feed(g, 60, Double.NaN, 1.0).action()).isEqualTo(Action.SKIP);
        assertThat(feed(g, 61, Double.NaN, 1.0).action()).isEqualTo(Action.SKIP);
        Decision r = feed(g, 62, Double.NaN, 1.0);
        assertThat(r.action()).isEqualTo(Action.ROLLBACK);
        assertThat(r.lrScale()).isEqualTo(0.5);
        assertThat(g.lrScale()).isEqualTo(0.5);
        assertThat(g.state()).isEqualTo(GuardState.RECOVERING);
        assertThat(rec.of(EventKind.ROLLBACK).get(0).detail())
                .contains("3 consecutive non-finite steps")
                .contains("rolled back from step 62 to the snapshot before step 50")
                .contains("learning-rate scale 1.000 -> 0.5000");
        // re-warm: linear over rewarm.steps (100) healthy steps towards rewarm.target x the ceiling (1.0)
        double target = 0.75;
        for (int step = 63; step < 63 + 50; step++) {
            feed(g, step, 1.0, 1.0);
        }
        assertThat(g.lrScale()).isCloseTo(0.5 + (target - 0.5) / 2, org.assertj.core.data.Offset.offset(1e-9));
        for (int step = 113; step < 300; step++) {
            feed(g, step, 1.0, 1.0);
        }
        assertThat(g.lrScale()).isEqualTo(target);
        assertThat(rec.steps.get(rec.steps.size() - 1).lrScale()).isEqualTo(target);
    }

    @Test
    void outlierBatchesAreSkippedThenRolledBackWhenTheyPersist() {
        Recorder rec = new Recorder();
        Guard g = guard(mechanics().build(), rec);
        for (int step = 0; step < 100; step++) {
            feed(g, step, 1.0, 1.0);
        }
        assertThat(feed(g, 100, 1e6, 1e12).action()).isEqualTo(Action.SKIP);
        assertThat(feed(g, 101, 1.0, 1.0).action()).as("one bad batch, then healthy again").isEqualTo(Action.STEP);
        for (int k = 0; k < 3; k++) {
            assertThat(feed(g, 102 + k, 500, 50).action()).isEqualTo(Action.SKIP);
        }
        assertThat(feed(g, 105, 500, 50).action()).isEqualTo(Action.ROLLBACK);
        assertThat(rec.of(EventKind.ROLLBACK).get(0).detail()).contains("4 outlier batches in a row");
    }

    @Test
    void explosionBeforeAnyProgressCutsDeeperAndTheCeilingHolds() {
        Guard g = guard(mechanics().build(), new Recorder());
        long step = 0;
        for (; step < 60; step++) {
            feed(g, step, 1.0, 1.0);
        }
        for (int k = 0; k < 3; k++) {
            feed(g, step++, Double.NaN, 1.0);
        }
        assertThat(g.lrScale()).isEqualTo(0.5);
        for (int k = 0; k < 3; k++) {
            feed(g, step++, Double.NaN, 1.0);
        }
        assertThat(g.lrScale()).as("second explosion with no snapshot in between: cut^2").isEqualTo(0.125);
        assertThat(g.schedule().ceiling()).isEqualTo(0.5);
        for (int k = 0; k < 1000; k++) {
            feed(g, step++, 1.0, 1.0);
            assertThat(g.lrScale()).isLessThan(g.schedule().ceiling());
        }
        assertThat(g.lrScale()).as("after a deeper cut, re-warm at most one plain cut up").isEqualTo(0.25);
    }

    @Test
    void batchesAfterARollbackAreSkippedWhenAsked() {
        Recorder rec = new Recorder();
        Guard g = guard(mechanics().rollbackSkip(2).build(), rec);
        long step = 0;
        for (; step < 60; step++) {
            feed(g, step, 1.0, improving(step));
        }
        for (int k = 0; k < 3; k++) {
            feed(g, step++, Double.NaN, 1.0);
        }
        assertThat(rec.of(EventKind.ROLLBACK).get(0).data()).containsEntry("skip_batches", 2).containsEntry("to_step", 50L);
        assertThat(feed(g, step++, 1.0, 1.0).action()).isEqualTo(Action.SKIP);
        assertThat(feed(g, step++, 1.0, 1.0).action()).isEqualTo(Action.SKIP);
        assertThat(feed(g, step++, 1.0, 1.0).action()).isEqualTo(Action.STEP);
    }

    @Test
    void rollbackBudgetEndsInAnAbortWithADiagnosis() {
        Recorder rec = new Recorder();
        Guard g = guard(mechanics().rollbackMax(2).haltWhenSpent(true).build(), rec);
        long step = 0;
        for (; step < 60; step++) {
            feed(g, step, 1.0, 1.0);
        }
        Decision d = Decision.step();
        while (d.action() != Action.ABORT) {
            d = g.decide(StepStats.of(step++, 1.0, true, new double[] {1.0, Double.NaN}), null);
        }
        assertThat(g.state()).isEqualTo(GuardState.HALTED);
        assertThat(rec.of(EventKind.ROLLBACK)).hasSize(2);
        assertThat(d.reason())
                .contains("GradGuard halted the run at step " + (step - 1))
                .contains("after 2 rollbacks without healthy progress")
                .contains("first showed in 'layer1.weight'")
                .contains("Learning-rate scale history: 1 -> 0.5000 (step 62) -> 0.1250 (step 65)")
                .contains("What to change");
        long last = step;
        assertThatThrownBy(() -> feed(g, last, 1.0, 1.0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void learningRateFloorEndsInAnAbort() {
        Guard g = guard(mechanics().lrFloor(0.3).haltWhenSpent(true).build(), new Recorder());
        long step = 0;
        for (; step < 60; step++) {
            feed(g, step, 1.0, 1.0);
        }
        Decision d = Decision.step();
        while (d.action() != Action.ABORT) {
            d = feed(g, step++, Double.NaN, 1.0);
        }
        assertThat(d.reason()).contains("below lr.floor=0.3");
        assertThat(g.summary().rollbacks()).isEqualTo(1);
    }

    @Test
    void aSpentBudgetSettlesByDefault() {
        Recorder rec = new Recorder();
        Guard g = guard(mechanics().lrFloor(0.3).build(), rec);
        assertThat(g.config().haltWhenSpent()).isFalse();
        long step = 0;
        for (; step < 60; step++) {
            feed(g, step, 1.0, 1.0);
        }
        // the loss rises far above where the run started (finite trouble): the first rollback cuts 1 -> 0.5
        Decision d = Decision.step();
        while (d.action() != Action.ROLLBACK) {
            d = feed(g, step++, 1.0, 10.0);
        }
        assertThat(g.lrScale()).isEqualTo(0.5);
        // again before any healthy progress: the next cut (0.5 x 0.25) would go below lr.floor 0.3, so the guard
        // rolls back one last time, holds the scale at the floor and does not halt
        d = Decision.step();
        while (d.action() != Action.ROLLBACK) {
            d = feed(g, step++, 1.0, 10.0);
            assertThat(d.action()).isNotEqualTo(Action.ABORT);
        }
        assertThat(d.reason()).contains("the rollback budget is spent").contains("below lr.floor=0.3")
                .contains("held for the rest of the run");
        assertThat(g.lrScale()).isEqualTo(0.3);
        assertThat(rec.of(EventKind.ROLLBACK)).hasSize(2);
        int rises = rec.of(EventKind.RISE).size();
        // from here on the same finite trouble is neither rolled back nor repeated as events; the scale stays
        for (int k = 0; k < 300; k++) {
            assertThat(feed(g, step++, 1.0, 10.0).applies()).isTrue();
        }
        assertThat(rec.of(EventKind.ROLLBACK)).hasSize(2);
        assertThat(rec.of(EventKind.RISE)).hasSize(rises);
        assertThat(g.lrScale()).isEqualTo(0.3);
        assertThat(g.state()).isNotEqualTo(GuardState.HALTED);
        // a non-finite streak still halts: there is no rollback left, and the parameters would be lost
        d = Decision.step();
        while (d.action() == Action.SKIP || d.applies()) {
            d = feed(g, step++, Double.NaN, 1.0);
        }
        assertThat(d.action()).isEqualTo(Action.ABORT);
        assertThat(g.state()).isEqualTo(GuardState.HALTED);
    }

    @Test
    void rollbackSpentKeyIsParsedAndChecked() {
        assertThat(GuardConfig.custom().set("rollback.spent", "halt", "test").build().haltWhenSpent()).isTrue();
        assertThat(GuardConfig.custom().set("rollback.spent", "Settle", "test").build().haltWhenSpent()).isFalse();
        assertThatThrownBy(() -> GuardConfig.custom().set("rollback.spent", "stop", "agent arg").build())
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("rollback.spent").hasMessageContaining("stop").hasMessageContaining("settle or halt")
                .hasMessageContaining("agent arg");
    }

    @Test
    void withoutSnapshotsNonFiniteStreakHalts() {
        Guard g = guard(GuardConfig.custom().snapshotEvery(0).build(), new Recorder());
        for (int step = 0; step < 30; step++) {
            assertThat(feed(g, step, 1.0, 1.0).snapshot()).isFalse();
        }
        for (int k = 0; k < 3; k++) {
            assertThat(feed(g, 30 + k, Double.NaN, 1.0).action()).isEqualTo(Action.SKIP);
        }
        assertThat(feed(g, 33, Double.NaN, 1.0).action()).isEqualTo(Action.ABORT);
    }

    @Test
    void monitorNeverActsButRecordsEverything() {
        Recorder rec = new Recorder();
        Guard g = guard(GuardConfig.custom().policy(Policy.MONITOR).build(), rec);
        for (int step = 0; step < 100; step++) {
            assertThat(feed(g, step, 1.0, 1.0)).isEqualTo(Decision.step());
        }
        assertThat(feed(g, 100, 50.0, 1.0).action()).isEqualTo(Action.STEP);
        for (int k = 0; k < 20; k++) {
            assertThat(feed(g, 101 + k, Double.NaN, Double.NaN).action()).isEqualTo(Action.STEP);
        }
        assertThat(rec.of(EventKind.SPIKE)).hasSize(1);
        assertThat(rec.of(EventKind.NONFINITE)).hasSize(20);
        assertThat(rec.of(EventKind.SNAPSHOT)).isEmpty();
    }

    @Test
    void clipPolicyUsesTorchSemanticsAndNeverRollsBack() {
        Recorder rec = new Recorder();
        Guard g = guard(GuardConfig.custom().policy(Policy.CLIP).clipNorm(1.0).build(), rec);
        Decision d = feed(g, 0, 4.0, 1.0);
        assertThat(d.action()).isEqualTo(Action.CLIP);
        assertThat(d.clipCoef()).isEqualTo(1.0 / (4.0 + 1e-6));
        assertThat(feed(g, 1, 0.5, 1.0).action()).isEqualTo(Action.STEP);
        for (int k = 0; k < 50; k++) {
            feed(g, 2 + k, 1e6, 1e6);
        }
        assertThat(rec.of(EventKind.ROLLBACK)).isEmpty();
        assertThat(rec.of(EventKind.SNAPSHOT)).isEmpty();
    }

    @Test
    void offDoesNothing() {
        Recorder rec = new Recorder();
        Guard g = guard(GuardConfig.custom().policy(Policy.OFF).build(), rec);
        assertThat(feed(g, 0, Double.NaN, Double.NaN)).isEqualTo(Decision.step());
        assertThat(rec.steps).isEmpty();
        assertThat(g.summary().steps()).isZero();
    }

    @Test
    void persistentGrowthRollsBack() {
        Recorder rec = new Recorder();
        Guard g = guard(mechanics().build(), rec);
        long step = 0;
        for (; step < 100; step++) {
            feed(g, step, 1.0, 1.0);
        }
        double norm = 1.0;
        Decision d = Decision.step();
        while (d.action() != Action.ROLLBACK && step < 200) {
            norm *= 1.05;
            d = feed(g, step++, norm, 1.0);
        }
        assertThat(d.action()).isEqualTo(Action.ROLLBACK);
        assertThat(rec.of(EventKind.GROWTH)).hasSize(1);
        assertThat(rec.of(EventKind.GROWTH).get(0).detail()).contains("20 consecutive spikes clipped");
    }

    @Test
    void haltedIsTerminalInTheStateMachine() {
        assertThatThrownBy(() -> GuardState.HALTED.to(GuardState.HEALTHY))
                .hasMessage("GradGuard state cannot go from HALTED to HEALTHY");
        assertThat(GuardState.HEALTHY.to(GuardState.RECOVERING)).isEqualTo(GuardState.RECOVERING);
    }

    @Test
    void aThrowingListenerNeverBreaksTheGuard() {
        Guard g = new Guard(mechanics().build());
        g.addListener(new GuardListener() {
            @Override
            public void onStep(StepRecord r) {
                throw new IllegalStateException("listener bug");
            }
        });
        g.begin(RUN);
        assertThat(feed(g, 0, 1.0, 1.0).applies()).isTrue();
    }

    @Test
    void anEarlyLossRiseRollsBackToStepZeroAndCuts() {
        Recorder rec = new Recorder();
        Guard g = guard(GuardConfig.ofDefaults(), rec);
        assertThat(feed(g, 0, 5.0, 2.0).snapshot()).isTrue();
        assertThat(feed(g, 1, 20.0, 9.0).action()).as("one step above 3x the start").isEqualTo(Action.STEP);
        Decision d = feed(g, 2, 80.0, 40.0);
        assertThat(d.action()).isEqualTo(Action.ROLLBACK);
        assertThat(rec.of(EventKind.RISE)).hasSize(1);
        assertThat(rec.of(EventKind.ROLLBACK).get(0).data()).containsEntry("to_step", 0L);
        assertThat(g.lrScale()).isEqualTo(GuardConfig.DEFAULT_ROLLBACK_CUT);
    }

    @Test
    void persistentClippingIsFoldedIntoTheLearningRate() {
        Recorder rec = new Recorder();
        Guard g = guard(GuardConfig.custom().clipNorm(1.0).build(), rec);
        long step = 0;
        for (; step < 100; step++) {
            // a third of the steps need the fixed clip
            feed(g, step, step % 3 == 0 ? 2.0 : 0.5, 1.0);
        }
        List<GuardEvent> cuts = rec.of(EventKind.LR_CUT);
        assertThat(cuts).isNotEmpty();
        assertThat(cuts.get(0).detail()).contains("of the last 50 steps were clipped");
        assertThat(cuts.get(0).data()).containsEntry("lr_scale_before", 1.0);
        assertThat(g.lrScale()).isCloseTo(Math.pow(GuardConfig.DEFAULT_ROLLBACK_CUT, cuts.size()),
                org.assertj.core.data.Offset.offset(1e-12));
        assertThat(g.schedule().ceiling()).as("the scale before the last cut").isGreaterThan(g.lrScale());
        assertThat(rec.of(EventKind.ROLLBACK)).isEmpty();
    }

    @Test
    void afterARollbackEveryStepIsCappedAtAPercentileOfTheNormsSinceAndTheCapIsNotCountedAsClipping() {
        for (double pct : new double[] {10, 0}) {
            Recorder rec = new Recorder();
            Guard g = guard(mechanics().recoveryPercentile(pct).build(), rec);
            Random rng = new Random(3);
            long step = 0;
            for (; step < 60; step++) {
                assertThat(g.plan(step).capTo()).as("no cap before a rollback").isInfinite();
                feed(g, step, Math.exp(0.2 * rng.nextGaussian()), improving(step));
            }
            for (int k = 0; k < 3; k++) {
                feed(g, step++, Double.NaN, 1.0);
            }
            assertThat(rec.of(EventKind.ROLLBACK)).hasSize(1);
            List<Double> since = new ArrayList<>();
            int capped = 0;
            int snapshots = 0;
            for (int k = 0; k < 300; k++, step++) {
                StepStats stats = stats(step, Math.exp(0.3 * rng.nextGaussian()), 0.5, 0.5);
                double norm = stats.gradNorm();
                StepPlan plan = g.plan(step);
                Decision d = g.decide(stats, null);
                if (pct == 0 || since.isEmpty()) {
                    assertThat(plan.capTo()).isInfinite();
                    assertThat(d.action()).isEqualTo(Action.STEP);
                } else {
                    // numpy's linear percentile of every norm since the rollback, this one excluded
                    double[] sorted = since.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                    double rank = pct / 100 * (sorted.length - 1);
                    int lo = (int) Math.floor(rank);
                    double p = sorted[lo] + (rank - lo) * (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]);
                    assertThat(plan.capTo()).isEqualTo(p);
                    if (norm > p) {
                        assertThat(d.action()).as("step %d", step).isEqualTo(Action.CLIP);
                        assertThat(d.clipCoef()).isEqualTo(Math.min(p / (norm + 1e-6), 1.0));
                        assertThat(d.reason()).contains("capped to").contains("percentile 10 of the norms");
                        capped++;
                    } else {
                        assertThat(d.action()).isEqualTo(Action.STEP);
                    }
                }
                snapshots += d.snapshot() ? 1 : 0;
                since.add(norm);
            }
            if (pct == 0) {
                assertThat(g.summary().clipped()).isZero();
                continue;
            }
            assertThat(capped).as("about 90% of the steps are above the 10th percentile").isBetween(240, 290);
            // the guard judged the capped steps healthy: no fold although far more than fold.rate were capped, the
            // re-warm went on, and snapshots were taken on capped steps
            assertThat(rec.of(EventKind.LR_CUT)).isEmpty();
            assertThat(g.lrScale()).isEqualTo(0.75);
            assertThat(snapshots).isPositive();
            assertThat(rec.of(EventKind.ROLLBACK).get(0).detail()).contains("capped at percentile 10 of the norms since");
        }
    }

    @Test
    void aClippedSpikeDuringTheRewarmStopsItThere() {
        Guard g = guard(mechanics().build(), new Recorder());
        long step = 0;
        for (; step < 60; step++) {
            feed(g, step, 1.0, improving(step));
        }
        for (int k = 0; k < 3; k++) {
            feed(g, step++, Double.NaN, 1.0);
        }
        for (int k = 0; k < 40; k++) {
            feed(g, step++, 1.0, 0.5);
        }
        double rewarming = g.lrScale();
        assertThat(rewarming).isBetween(0.5, 0.75);
        assertThat(feed(g, step++, 40.0, 0.5).action()).isEqualTo(Action.CLIP);
        for (int k = 0; k < 200; k++) {
            feed(g, step++, 1.0, 0.5);
        }
        assertThat(g.lrScale()).as("held where the spike was clipped").isEqualTo(rewarming);
        assertThat(g.schedule().ceiling()).isEqualTo(rewarming);
    }

    @Test
    void aLossThatSlidBackKeepsTheOlderBetterSnapshot() {
        Guard g = guard(GuardConfig.ofDefaults(), new Recorder());
        long step = 0;
        for (; step < 120; step++) {
            feed(g, step, 1.0, improving(step));
        }
        long good = g.snapshotStep();
        assertThat(good).isGreaterThanOrEqualTo(100);
        // the loss climbs back to 1.8x (under the rules' thresholds) and stays there: no newer snapshot
        for (; step < 400; step++) {
            feed(g, step, 1.0, 1.8 * improving(100));
        }
        assertThat(g.snapshotStep()).isEqualTo(good);
    }

    @Test
    void theLargestStableRateIsOneThatHeldUnclippedBelowEveryInstability() {
        Guard g = guard(mechanics().growthSteps(1000).build(), new Recorder());
        long step = 0;
        for (; step < 60; step++) {
            feed(g, step, 1.0, improving(step));
        }
        for (int k = 0; k < 3; k++) {
            feed(g, step++, Double.NaN, 1.0);
        }
        // the cut scale 0.5 re-warms; every step above 0.6 needs a clip (until clipping folds the rate down)
        for (int k = 0; k < 400; k++) {
            feed(g, step, g.lrScale() > 0.6 ? 40.0 : 1.0, 0.5);
            step++;
        }
        String headline = g.diagnosis().finding("learning_rate").orElseThrow().headline();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("largest stable learning rate seen was about ([0-9.]+)x")
                .matcher(headline);
        assertThat(m.find()).as(headline).isTrue();
        assertThat(Double.parseDouble(m.group(1))).as("a scale that held only while clipped is not stable").isLessThan(0.6);
    }
}
