package io.gradguard.core.diagnose;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.gradguard.core.Action;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.RunInfo;
import io.gradguard.core.event.EventKind;
import io.gradguard.core.event.GuardEvent;
import io.gradguard.core.event.LayerRecord;
import io.gradguard.core.event.StepRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Each rule on hand-made records: fires on its pattern, stays quiet on a near miss. */
class DiagnoserTest {

    private static Diagnoser withParams(List<String> names) {
        Diagnoser d = new Diagnoser();
        List<RunInfo.Parameter> ps = new ArrayList<>();
        names.forEach(n -> ps.add(new RunInfo.Parameter(n, 10)));
        d.onRun(new RunInfo("test", "cpu", "loop", ps, Map.of()), GuardConfig.ofDefaults());
        return d;
    }

    private static StepRecord healthy(long step, double norm, double scale) {
        return new StepRecord(step, 1.0, true, norm, 1.0, scale, Action.STEP);
    }

    private static StepRecord acted(long step, Action a, double scale) {
        return new StepRecord(step, 50.0, true, 500.0, 0.0, scale, a);
    }

    /** A 12-layer MLP's names: NNLinear_weight / NNLinear_bias. */
    private static List<String> mlp(int layers) {
        List<String> n = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            n.add(String.format("%02dLinear_weight", 2 * i + 1));
            n.add(String.format("%02dLinear_bias", 2 * i + 1));
        }
        return n;
    }

    private static LayerRecord layers(long step, List<String> names, double weightGrowth, double biasGrowth) {
        double[] g = new double[names.size()];
        int layers = names.size() / 2;
        for (int l = 0; l < layers; l++) {
            // index 0 is the input side; growth > 1 means larger towards the input
            g[2 * l] = Math.pow(weightGrowth, layers - 1 - l) * (1 + 0.05 * (l % 2));
            g[2 * l + 1] = Math.pow(biasGrowth, layers - 1 - l);
        }
        return new LayerRecord(step, names, g, null);
    }

    @Test
    void depthFiresOnBiasGradientsGrowingTowardsTheInput() {
        List<String> names = mlp(12);
        Diagnoser d = withParams(names);
        d.onStep(healthy(0, 1, 1));
        d.onLayers(layers(0, names, 1.0, 1.35));
        d.onEvent(new GuardEvent(1, EventKind.NONFINITE, "loss is Infinity", "23Linear_bias"));
        d.onStep(acted(1, Action.SKIP, 1));
        RunDiagnosis r = d.diagnose();
        assertThat(r.finding("depth")).isPresent();
        assertThat(r.finding("depth").get().headline()).contains("bias gradient norms grow towards the input").contains("12 layers");
        assertThat(r.finding("depth").get().advice()).contains("normalization").contains("residual");
    }

    @Test
    void depthStaysQuietOnAFlatOrShallowProfile() {
        List<String> names = mlp(12);
        Diagnoser flat = withParams(names);
        flat.onLayers(layers(0, names, 1.05, 1.1)); // 12 layers x 1.1 = 0.45 decades: under one decade
        flat.onEvent(new GuardEvent(1, EventKind.SPIKE, "spike", null));
        assertThat(flat.diagnose().finding("depth")).isEmpty();
        List<String> shallow = mlp(4);
        Diagnoser few = withParams(shallow);
        few.onLayers(layers(0, shallow, 10, 10)); // steep, but only 4 layers
        few.onEvent(new GuardEvent(1, EventKind.SPIKE, "spike", null));
        assertThat(few.diagnose().finding("depth")).isEmpty();
    }

    @Test
    void recurrentFiresForAVanillaRnnThatExploded() {
        List<String> names = List.of("01RNN_l_0_i2h_WEIGHT", "01RNN_l_0_h2h_WEIGHT", "03Linear_weight");
        Diagnoser quiet = withParams(names);
        for (int i = 0; i < 30; i++) {
            quiet.onStep(healthy(i, 1, 1));
        }
        assertThat(quiet.diagnose().finding("recurrent")).as("no trouble, no advice").isEmpty();

        Diagnoser d = withParams(names);
        d.onLayers(new LayerRecord(0, names, new double[] {1, 3, 1}, new double[] {2, 9.5, 1}));
        for (int i = 0; i < 14; i++) {
            d.onStep(healthy(i, 1, 1));
        }
        d.onLayers(new LayerRecord(14, names, new double[] {1, 30, 200}, new double[] {2, 52, 1}));
        d.onEvent(new GuardEvent(14, EventKind.SPIKE, "spike", "03Linear_weight"));
        d.onStep(acted(14, Action.SKIP, 1));
        Finding f = d.diagnose().finding("recurrent").orElseThrow();
        assertThat(f.advice()).contains("LSTM or GRU").contains("orthogonal");
        assertThat(String.join("\n", f.evidence())).contains("01RNN_l_0_h2h_WEIGHT").contains("9.50 (step 0) to 52.0 (step 14)");
    }

    @Test
    void dataNamesOneOffSpikesButNotARun() {
        Diagnoser d = withParams(mlp(2));
        for (int i = 0; i < 300; i++) {
            if (i == 100 || i == 220) {
                d.onEvent(new GuardEvent(i, EventKind.SPIKE, "outlier batch", "01Linear_weight"));
                d.onStep(acted(i, Action.SKIP, 1));
            } else {
                d.onStep(healthy(i, 1, 1));
            }
        }
        Finding f = d.diagnose().finding("data").orElseThrow();
        assertThat(f.headline()).contains("steps 100, 220");

        Diagnoser run = withParams(mlp(2));
        for (int i = 0; i < 300; i++) {
            if (i >= 100 && i < 104) {
                run.onEvent(new GuardEvent(i, EventKind.SPIKE, "outlier batch", null));
                run.onStep(acted(i, Action.SKIP, 1));
            } else {
                run.onStep(healthy(i, 1, 1));
            }
        }
        assertThat(run.diagnose().finding("data")).as("four spikes in a row are a trend, not a batch").isEmpty();
    }

    @Test
    void learningRateReportsTheLargestStableScale() {
        Diagnoser d = withParams(mlp(2));
        d.onEvent(new GuardEvent(1, EventKind.SPIKE, "spike", null));
        d.onStep(acted(1, Action.SKIP, 1));
        d.onEvent(new GuardEvent(2, EventKind.ROLLBACK, "rollback", null));
        d.onStep(acted(2, Action.ROLLBACK, 0.5));
        for (int i = 3; i < 80; i++) {
            d.onStep(healthy(i, 1, 0.5));
        }
        Finding f = d.diagnose().finding("learning_rate").orElseThrow();
        assertThat(f.headline()).contains("about 0.500x yours");
        assertThat(f.advice()).contains("0.250x yours");
        // early trouble, and the run was fine at half the rate: warm-up advice
        assertThat(d.diagnose().finding("warmup")).isPresent();
    }

    @Test
    void learningRateIsNotBlamedWhenNothingWasStable() {
        Diagnoser d = withParams(mlp(2));
        double scale = 1;
        for (int i = 0; i < 8; i++) {
            d.onEvent(new GuardEvent(i, EventKind.NONFINITE, "nan", null));
            scale /= 2;
            d.onStep(acted(i, Action.ROLLBACK, scale));
        }
        Finding f = d.diagnose().finding("learning_rate").orElseThrow();
        assertThat(f.headline()).startsWith("Learning rate: not the cause");
        assertThat(d.diagnose().finding("warmup")).isEmpty();
    }

    @Test
    void persistentSpikesAtALowRatePointAtTheLoss() {
        Diagnoser d = withParams(mlp(2));
        d.onEvent(new GuardEvent(0, EventKind.ROLLBACK, "rollback", null));
        d.onStep(acted(0, Action.ROLLBACK, 0.1));
        for (int i = 1; i < 300; i++) {
            if (i % 20 == 0) {
                d.onEvent(new GuardEvent(i, EventKind.SPIKE, "spike", null));
                d.onStep(acted(i, Action.SKIP, 0.1));
            } else {
                d.onStep(healthy(i, 1, 0.1));
            }
        }
        assertThat(d.diagnose().finding("loss").orElseThrow().advice()).contains("epsilon");
    }

    @Test
    void clipThresholdIsTheHealthyNinetyFifthPercentile() {
        Diagnoser d = withParams(mlp(2));
        Random rng = new Random(1);
        List<Double> norms = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            double n = Math.exp(rng.nextGaussian() * 0.5);
            norms.add(n);
            d.onStep(healthy(i, n, 1));
        }
        norms.sort(Double::compare);
        double p95 = norms.get((int) Math.ceil(0.95 * norms.size()) - 1);
        RunDiagnosis r = d.diagnose();
        assertThat(r.neededHelp()).isFalse();
        Finding f = r.finding("clip").orElseThrow();
        double suggested = Double.parseDouble(f.advice().replaceAll(".*at about ([0-9.e+-]+).*", "$1"));
        assertThat(suggested).isCloseTo(p95, within(p95 * 0.06));
        assertThat(r.findings()).extracting(Finding::rule).containsExactly("clip");
    }
}
