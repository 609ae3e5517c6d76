package io.gradguard.core.rule;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.core.Action;
import io.gradguard.core.event.EventKind;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The dead-gradients rule on synthetic streams: a network whose units died is caught; living ones never are. */
class DeadGradientsRuleTest {

    /** Four parameters: two large hidden weights, the output weight, the output bias (element counts). */
    private static final long[] SIZES = {4096, 576, 192, 6};

    private static StepView step(long t, double loss, double[] norms) {
        double sq = 0;
        for (double n : norms) {
            sq += n * n;
        }
        return new StepView(t, loss, true, Math.sqrt(sq), true, Action.STEP, 1.0, false, false, false, 0, 1.0, false,
                norms);
    }

    private static DeadGradientsRule rule(double share) {
        DeadGradientsRule r = new DeadGradientsRule(share);
        r.sizes(SIZES);
        return r;
    }

    /** Feeds steps until the rule fires; returns the step, or -1. */
    private static long feed(DeadGradientsRule r, int from, int to, Stream s) {
        for (int t = from; t < to; t++) {
            Trouble tr = r.check(step(t, s.loss(t), s.norms(t)));
            if (tr != null) {
                assertThat(tr.kind()).isEqualTo(EventKind.COLLAPSE);
                assertThat(tr.cutsRate()).isTrue();
                return t;
            }
        }
        return -1;
    }

    interface Stream {
        double loss(int t);

        double[] norms(int t);
    }

    /** Healthy for {@code dieAt} steps, then every gradient but the output layer's is exactly zero; loss at chance. */
    private static Stream diesAt(int dieAt, Random rng) {
        return new Stream() {
            public double loss(int t) {
                return t < dieAt ? 2.1 - 0.002 * t : 1.79 * Math.exp(0.01 * rng.nextGaussian());
            }

            public double[] norms(int t) {
                double e = Math.exp(0.3 * rng.nextGaussian());
                return t < dieAt ? new double[] {2.8 * e, 2.3 * e, 1.1 * e, 0.2 * e}
                        : new double[] {0, 0, 0.3 * e, 0.15 * e};
            }
        };
    }

    @Test
    void aNetworkWhoseUnitsDiedIsACollapse() {
        DeadGradientsRule r = rule(0.9);
        long at = feed(r, 0, 300, diesAt(3, new Random(1)));
        assertThat(at).as("fires once the dead share has lasted the window after the early steps")
                .isEqualTo(DeadGradientsRule.EARLY + DeadGradientsRule.WINDOW - 1);
    }

    @Test
    void noSnapshotWhileTheNetworkIsDying() {
        DeadGradientsRule r = rule(0.9);
        Stream s = diesAt(3, new Random(2));
        feed(r, 0, DeadGradientsRule.EARLY + 2, s);
        assertThat(r.suspected()).isTrue();
        DeadGradientsRule healthy = rule(0.9);
        feed(healthy, 0, DeadGradientsRule.EARLY + 2, diesAt(1000, new Random(2)));
        assertThat(healthy.suspected()).isFalse();
    }

    @Test
    void aRestoredNetworkThatIsStillDeadIsSeenAgain() {
        // the early levels are the run's, not the episode's: after a rollback to a snapshot that was already dead, the
        // new episode's first steps are dead too, and must not become the reference
        DeadGradientsRule r = rule(0.9);
        Stream s = diesAt(3, new Random(3));
        long first = feed(r, 0, 300, s);
        r.rolledBack();
        long second = feed(r, (int) first + 1, 300, s);
        assertThat(second).isEqualTo(first + DeadGradientsRule.WINDOW);
    }

    @Test
    void noFalseAlarmOnLivingNetworks() {
        // 200 runs whose gradients shrink 300x as the loss falls, with noise and steps where one small layer's gradient
        // is zero (a frozen-looking bias); none is dead
        int alarms = 0;
        for (int seed = 0; seed < 200; seed++) {
            Random rng = new Random(seed);
            DeadGradientsRule r = rule(0.9);
            double decay = 300 * rng.nextDouble();
            for (int t = 0; t < 1000; t++) {
                double e = Math.exp(0.5 * rng.nextGaussian()) / (1 + decay * t / 1000.0);
                double[] g = {2.8 * e, 2.3 * e, 1.1 * e, rng.nextInt(5) == 0 ? 0 : 0.2 * e};
                if (r.check(step(t, 2.0 / (1 + decay * t / 1000.0), g)) != null) {
                    alarms++;
                    break;
                }
            }
        }
        assertThat(alarms).isZero();
    }

    @Test
    void aSolvedTaskIsNotACollapse() {
        // from step 2 the loss is almost zero and every gradient but the bias's is tiny: the task is solved. The same
        // gradients with a loss that stayed up would be a collapse (checked below), so it is the loss that tells them apart
        DeadGradientsRule r = rule(0.9);
        Stream solved = new Stream() {
            public double loss(int t) {
                return t < 2 ? 2.0 : 1e-4;
            }

            public double[] norms(int t) {
                return t < 2 ? new double[] {2.8, 2.3, 1.1, 0.2} : t < 10 ? new double[] {0.5, 0.4, 0.2, 0.05}
                        : new double[] {1e-6, 1e-6, 1e-6, 1e-3};
            }
        };
        Stream stuck = new Stream() {
            public double loss(int t) {
                return 2.0;
            }

            public double[] norms(int t) {
                return solved.norms(t);
            }
        };
        assertThat(feed(rule(0.9), 0, 300, stuck)).isGreaterThan(0);
        assertThat(feed(r, 0, 300, solved)).isEqualTo(-1);
    }

    @Test
    void zeroTurnsTheRuleOffAndSharesCount() {
        assertThat(feed(rule(0), 0, 300, diesAt(3, new Random(4)))).isEqualTo(-1);
        assertThat(rule(0).suspected()).isFalse();
        // the dead parameters hold 4672 of 4870 elements (96%): more than 0.9, less than 0.99
        assertThat(feed(rule(0.99), 0, 300, diesAt(3, new Random(5)))).isEqualTo(-1);
        // weighed by count instead (no sizes), two of four parameters are dead: 50%
        DeadGradientsRule byCount = new DeadGradientsRule(0.9);
        assertThat(feed(byCount, 0, 300, diesAt(3, new Random(6)))).isEqualTo(-1);
        DeadGradientsRule half = new DeadGradientsRule(0.5);
        assertThat(feed(half, 0, 300, diesAt(3, new Random(6)))).isGreaterThan(0);
    }
}
