package io.gradguard.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gradguard.core.GuardConfig;
import io.gradguard.models.tf.TfMlpScenario;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TensorFlow guard's gradient-flow check on its first step, in graph mode: a warning event at step 0 when the
 * first update is too large a part of a weight or the weight gradients compound with depth, none on healthy graphs.
 */
class TfFirstStepFlowTest {

    static final String WARNING = "gradient flow at the first step is out of range";
    /** An 8-layer ReLU net at twice He's standard deviation: the signal doubles per layer both ways. */
    static final TfMlpScenario OVER_SCALED = new TfMlpScenario(8, 32, 7L, false).withInitGain(2.0);
    /** Plain gradient descent at a rate that trains the He-initialized net. */
    static final float LR = 0.01f;

    @TempDir
    Path dir;

    private static List<JsonNode> flowWarnings(Path log) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(log)) {
            JsonNode n = json.readTree(line);
            if (n.path("type").asText().equals("event") && n.path("kind").asText().equals("warning")
                    && n.path("detail").asText().startsWith(WARNING)) {
                out.add(n);
            }
        }
        return out;
    }

    @Test
    void anOverScaledDeepNetIsWarnedOfOnItsFirstStep() throws Exception {
        TfTrain.Result bare = TfTrain.bare(OVER_SCALED, TfMlpScenario::sgd, LR);
        TfTrain.Result he = TfTrain.bare(new TfMlpScenario(8, 32, 7L, false), TfMlpScenario::sgd, LR);
        System.out.println("over-scaled, plain GD " + LR + ": eval loss " + bare.evalLoss() + " (first non-finite step "
                + bare.firstNonFinite() + "); He-initialized " + he.evalLoss());
        // without the guard this set-up explodes (the warning is about a real fault)
        assertThat(!Float.isFinite(bare.evalLoss()) || bare.evalLoss() > 100 * he.evalLoss()).isTrue();
        Path log = dir.resolve("over.jsonl");
        TfTrain.guarded(OVER_SCALED, TfMlpScenario::sgd, LR, GuardConfig.ofDefaults(), log);
        List<JsonNode> warned = flowWarnings(log);
        System.out.println(warned);
        assertThat(warned).hasSize(1);
        assertThat(warned.get(0).path("step").asLong()).isZero();
        // the first update, read from the in-graph snapshot, is thousands of times the output layer's weight
        assertThat(warned.get(0).path("detail").asText()).containsPattern("the first update moves dense\\d_kernel by"
                + " [0-9.e+]+x its norm").contains("TfFlowCheck");
    }

    @Test
    void healthyGraphsGetNoFlowWarning() throws Exception {
        Path he = dir.resolve("he.jsonl");
        TfTrain.guarded(new TfMlpScenario(8, 32, 7L, false), TfMlpScenario::sgd, LR, GuardConfig.ofDefaults(), he);
        assertThat(flowWarnings(he)).isEmpty();
        Path tuned = dir.resolve("tuned.jsonl");
        TfTrain.guarded(new TfMlpScenario(), TfMlpScenario::sgdMomentum, TfMlpScenario.TUNED_SGD_MOMENTUM_LR,
                GuardConfig.ofDefaults(), tuned);
        assertThat(flowWarnings(tuned)).isEmpty();
    }
}
