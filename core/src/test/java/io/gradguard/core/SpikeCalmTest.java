package io.gradguard.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.gradguard.core.event.EventKind;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.event.GuardListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The calm floor ({@code spike.calm}): until a run first shows instability, a norm counts as a spike only from
 * {@code spike.calm} times its typical value, and such a spike is clipped down to {@code spike.ratio} times it; from
 * the first instability on, {@code spike.ratio} alone. On synthetic norm streams with the defaults (10 and 12).
 */
class SpikeCalmTest {

    private static final RunInfo RUN = new RunInfo("test", "cpu()", "unit",
            List.of(new RunInfo.Parameter("w", 100)), Map.of());

    private final List<GuardEvent> spikes = new ArrayList<>();

    private Guard guard(GuardConfig config) {
        Guard g = new Guard(config);
        g.addListener(new GuardListener() {
            @Override
            public void onEvent(GuardEvent e) {
                if (e.kind() == EventKind.SPIKE) {
                    spikes.add(e);
                }
            }
        });
        g.begin(RUN);
        return g;
    }

    private static Decision feed(Guard g, long step, double norm) {
        g.plan(step);
        return g.decide(StepStats.of(step, 1.0, true, new double[] {norm}), null);
    }

    /** 200 quiet steps: norms within a few percent of 1, so the ratio floors (not the z band) set the thresholds. */
    private static long calmHistory(Guard g) {
        Random rng = new Random(3);
        long step = 0;
        for (; step < 200; step++) {
            assertThat(feed(g, step, Math.exp(0.02 * rng.nextGaussian())).action()).isEqualTo(Action.STEP);
        }
        return step;
    }

    @Test
    void aCalmRunsLoneOutlierBetweenTheTwoFloorsIsLeftAlone() {
        Guard g = guard(GuardConfig.ofDefaults());
        long step = calmHistory(g);
        StepPlan plan = g.plan(step);
        // the trigger is the calm floor, the target the spike ratio
        assertThat(plan.clipAbove()).isCloseTo(12.0, within(0.5));
        assertThat(plan.clipTo()).isCloseTo(10.0, within(0.5));
        assertThat(plan.clipAbove() / plan.clipTo()).isCloseTo(1.2, within(1e-9));
        assertThat(feed(g, step++, 11.0).action()).isEqualTo(Action.STEP);
        assertThat(spikes).isEmpty();
        assertThat(feed(g, step, 1.0).action()).isEqualTo(Action.STEP);
    }

    @Test
    void theFirstSpikeAboveTheCalmFloorIsClippedToSpikeRatioAndEndsTheCalm() {
        Guard g = guard(GuardConfig.ofDefaults());
        long step = calmHistory(g);
        double typical = g.plan(step).clipTo() / 10.0;
        Decision d = feed(g, step++, 20.0);
        assertThat(d.action()).isEqualTo(Action.CLIP);
        // clipped down to 10x typical, not to the 12x that recognised it
        assertThat(d.clipCoef() * 20.0).isCloseTo(10.0 * typical, within(1e-6));
        assertThat(spikes).hasSize(1);
        for (int i = 0; i < 30; i++) {
            feed(g, step++, 1.0);
        }
        // no longer calm: the same lone outlier that a calm run keeps is now clipped, to 10x typical
        StepPlan plan = g.plan(step);
        assertThat(plan.clipAbove()).isEqualTo(plan.clipTo());
        Decision again = feed(g, step, 11.0);
        assertThat(again.action()).isEqualTo(Action.CLIP);
        assertThat(again.clipCoef()).isLessThan(1.0);
        assertThat(spikes).hasSize(2);
    }

    @Test
    void atOrBelowSpikeRatioTheCalmFloorIsOff() {
        Guard g = guard(GuardConfig.custom().spikeCalm(GuardConfig.DEFAULT_SPIKE_RATIO).build());
        long step = calmHistory(g);
        StepPlan plan = g.plan(step);
        assertThat(plan.clipAbove()).isEqualTo(plan.clipTo());
        assertThat(feed(g, step, 11.0).action()).isEqualTo(Action.CLIP);
        assertThat(spikes).hasSize(1);
    }

    @Test
    void aPlanRecognisesAboveClipAboveAndClipsDownToClipTo() {
        double inf = Double.POSITIVE_INFINITY;
        StepPlan p = new StepPlan(0, 12, inf, inf, inf, 12, inf, true, false, false, 1.0, 10);
        assertThat(p.predict(11, 1).action()).isEqualTo(Action.STEP);
        StepPlan.Outcome o = p.predict(20, 1);
        assertThat(o.action()).isEqualTo(Action.CLIP);
        assertThat(o.clipCoef()).isCloseTo(0.5, within(1e-6));
        // the plan without clipTo clips down to its trigger
        StepPlan old = new StepPlan(0, 12, inf, inf, inf, 12, inf, true, false, false, 1.0);
        assertThat(old.clipTo()).isEqualTo(12);
        assertThat(old.predict(24, 1).clipCoef()).isCloseTo(0.5, within(1e-6));
        assertThat(p.toArray()).hasSize(StepPlan.SIZE).endsWith(10.0, Double.POSITIVE_INFINITY);
    }
}
