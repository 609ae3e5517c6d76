package io.gradguard.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gradguard.core.Guard;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.RunInfo;
import io.gradguard.core.StepStats;
import io.gradguard.core.internal.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A log written by a live guard reads back to the same records and the same diagnosis. */
class RunLogTest {

    @TempDir
    Path dir;

    @Test
    void replayedDiagnosisEqualsTheLiveOne() throws Exception {
        Path log = dir.resolve("run.jsonl");
        List<RunInfo.Parameter> params = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            params.add(new RunInfo.Parameter(String.format("%02dLinear_weight", i), 100));
        }
        Guard guard = new Guard(GuardConfig.custom().log(log).layersEvery(25).build());
        guard.begin(new RunInfo("synthetic", "cpu", "loop", params, Map.of()));
        Random rng = new Random(7);
        for (int step = 0; step < 400; step++) {
            double[] norms = new double[8];
            for (int i = 0; i < 8; i++) {
                norms[i] = 0.3 * Math.exp(0.2 * rng.nextGaussian());
            }
            if (step == 150) {
                norms[3] = 1e4; // one corrupted batch
            }
            if (step >= 300 && step < 306) {
                java.util.Arrays.fill(norms, Double.NaN); // a run of NaN steps: rollback
            }
            guard.decide(StepStats.of(step, step == 150 ? 1e6 : 1.0, true, norms), () -> new double[8]);
        }
        String live = guard.diagnosis().text();
        guard.close();
        RunLog read = RunLog.read(log);
        assertThat(read.badLines()).isZero();
        assertThat(read.steps()).hasSize(400);
        assertThat(read.info().parameterNames()).hasSize(8);
        assertThat(read.end()).isNotNull();
        assertThat(read.end().rollbacks()).isPositive();
        assertThat(read.diagnose().text()).isEqualTo(live);
        assertThat(live).contains("Data: one-off spikes").contains("steps 150");
    }

    @Test
    void aTruncatedLastLineIsSkippedAndAForeignFileRejected() throws Exception {
        Path log = dir.resolve("cut.jsonl");
        Files.writeString(log, "{\"type\":\"run\",\"engine\":\"e\",\"device\":\"cpu\",\"attachment\":\"loop\",\"params\":{\"w\":3}}\n"
                + "{\"type\":\"step\",\"step\":0,\"loss\":\"NaN\",\"grad_norm\":\"Infinity\",\"clip_coef\":0.0,\"lr_scale\":1.0,\"action\":\"skip\"}\n"
                + "{\"type\":\"step\",\"step\":1,\"lo");
        RunLog r = RunLog.read(log);
        assertThat(r.steps()).hasSize(1);
        assertThat(r.steps().get(0).gradNorm()).isInfinite();
        assertThat(r.badLines()).isEqualTo(1);
        Path other = dir.resolve("other.jsonl");
        Files.writeString(other, "{\"hello\":1}\n");
        assertThatThrownBy(() -> RunLog.read(other)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("holds no GradGuard run header");
    }

    @Test
    void whatTheWriterWritesReadsBackAsPlainValues() throws Exception {
        Path log = dir.resolve("values.jsonl");
        String header = new Json().put("type", "run").put("engine", "e").put("device", "cpu").put("attachment", "loop")
                .put("s", "a \"q\" \\ \n \u0001 é").put("x", -1.5e-7).put("n", Double.NaN).put("i", 3L).put("b", true)
                .putAny("list", List.of(1, "Infinity")).toString();
        String step = new Json().put("type", "step").put("step", 0L).put("loss", 0.5).put("grad_norm", 1.0)
                .put("clip_coef", 1.0).put("lr_scale", 1.0).put("action", "step").toString();
        Files.writeString(log, header + "\n" + step + "\n{\"a\":}\n" + step + step + "\n");
        RunLog r = RunLog.read(log);
        Map<String, Object> h = r.header();
        assertThat(h.get("s")).isEqualTo("a \"q\" \\ \n \u0001 é");
        assertThat(h.get("x")).isEqualTo(-1.5e-7);
        assertThat(h.get("n")).isEqualTo("NaN");
        assertThat(h.get("i")).isEqualTo(3.0);
        assertThat(h.get("b")).isEqualTo(true);
        assertThat(h.get("list")).isEqualTo(List.of(1.0, "Infinity"));
        assertThat(r.info().extra()).containsKeys("s", "x", "n", "i", "b", "list").doesNotContainKey("engine");
        assertThat(r.steps()).hasSize(1);
        // a malformed line, and two records on one line, are bad lines
        assertThat(r.badLines()).isEqualTo(2);
    }
}
