package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.gradguard.core.GuardConfig;
import io.gradguard.core.Policy;
import io.gradguard.models.AdamOvershootScenario;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.Scenario;
import io.gradguard.models.Variant;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Where clipping is not enough: unguarded the run diverges, the clip-only policy fails or ends at least
 * 3x worse than the reference, and {@code auto} (rollback, cut learning rate, re-warm) ends within 1.5x
 * of the reference, with the rollbacks and the learning-rate-scale trajectory in the log.
 */
class RollbackRescueTest {

    @TempDir
    Path dir;

    /**
     * The scenarios, and whether a fixed clip at 1.0 (the usual default elsewhere) also fails there. It
     * does not at 10x: the deep MLP's healthy norms are about 0.5-1, so 1.0 happens to be a well-tuned
     * threshold for it (measured: 1.1x the reference). The adaptive clip-only policy fails on all three,
     * because these runs blow up within the first steps, before any norm history exists.
     */
    static Stream<Arguments> scenarios() {
        return Stream.of(
                Arguments.of(new DeepMlpScenario(0.01f, 10f), false),
                Arguments.of(new DeepMlpScenario(0.01f, 50f), true),
                Arguments.of(new AdamOvershootScenario(), true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void clipOnlyFailsAndRollbackRecovers(Scenario s, boolean fixedClipFails) {
        float reference = Train.bare(s, Variant.REFERENCE);
        float unguarded = Train.bare(s, Variant.EXPLODING);
        assertThat(!Float.isFinite(unguarded) || unguarded >= 10 * reference)
                .as("%s unguarded: %s vs reference %s", s, unguarded, reference).isTrue();

        // clip-only, with the adaptive threshold and with the usual fixed threshold of 1.0
        Train.Result clipOnly = Train.loop(s, Variant.EXPLODING,
                GuardConfig.custom().policy(Policy.CLIP).build(), dir.resolve("clip.jsonl"));
        assertThat(clipOnly.thrown() != null || !Float.isFinite(clipOnly.evalLoss()) || clipOnly.evalLoss() >= 3 * reference)
                .as("%s clip-only: %s (%s)", s, clipOnly.evalLoss(), clipOnly.summary()).isTrue();
        Train.Result clipFixed = Train.loop(s, Variant.EXPLODING,
                GuardConfig.custom().policy(Policy.CLIP).clipNorm(1.0).build(), dir.resolve("clip1.jsonl"));
        assertThat(clipFixed.thrown() != null || !Float.isFinite(clipFixed.evalLoss()) || clipFixed.evalLoss() >= 3 * reference)
                .as("%s clip-only at 1.0: %s (%s)", s, clipFixed.evalLoss(), clipFixed.summary()).isEqualTo(fixedClipFails);

        Train.Result auto = Train.listener(s, Variant.EXPLODING, GuardConfig.ofDefaults(), dir.resolve("auto.jsonl"));
        assertThat(auto.thrown()).isNull();
        assertThat(auto.evalLoss()).as("%s auto (%s)", s, auto.summary())
                .isFinite().isLessThanOrEqualTo(1.5f * reference);
        assertThat(auto.summary().rollbacks()).isPositive();

        List<JsonNode> lines = auto.lines();
        List<JsonNode> rollbacks = Train.events(lines, "rollback");
        assertThat(rollbacks).hasSize((int) auto.summary().rollbacks());
        assertThat(rollbacks.get(0).path("detail").asText()).contains("rolled back from step").contains("learning-rate scale 1.000 ->");
        List<Double> scales = Train.ofType(lines, "step").stream().map(n -> n.path("lr_scale").asDouble()).toList();
        assertThat(scales.get(0)).isEqualTo(1.0);
        double lowest = scales.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        assertThat(lowest).isLessThan(1.0);
        // a rollback's cut re-warms: the scale rises again on some step (a later stall cut may settle it lower)
        assertThat(java.util.stream.IntStream.range(1, scales.size()).anyMatch(i -> scales.get(i) > scales.get(i - 1)))
                .as("re-warmed after a cut").isTrue();
        // the same rescue with the snapshot in host memory ends bit-identically
        Train.Result onHost = Train.listener(s, Variant.EXPLODING,
                GuardConfig.custom().snapshotLocation(io.gradguard.core.SnapshotLocation.HOST).build(), dir.resolve("host.jsonl"));
        assertThat(onHost.evalLoss()).isEqualTo(auto.evalLoss());
        assertThat(onHost.summary().rollbacks()).isEqualTo(auto.summary().rollbacks());
        assertThat(onHost.lines().get(0).path("snapshot_location").asText()).isEqualTo("host");
        // the cap after the first rollback (recovery.percentile): the steps after it are capped (logged as clips with
        // their coefficient), the capped steps still snapshot and re-warm, and the rescue holds
        Train.Result cap = Train.listener(s, Variant.EXPLODING, GuardConfig.custom().recoveryPercentile(10).build(),
                dir.resolve("cap.jsonl"));
        assertThat(cap.thrown()).isNull();
        assertThat(cap.evalLoss()).as("%s capped (%s)", s, cap.summary()).isFinite().isLessThanOrEqualTo(1.5f * reference);
        List<JsonNode> capLines = cap.lines();
        assertThat(Train.events(capLines, "rollback").get(0).path("detail").asText())
                .contains("capped at percentile 10 of the norms since");
        long firstRollback = Train.events(capLines, "rollback").get(0).path("step").asLong();
        List<JsonNode> after = Train.ofType(capLines, "step").stream().filter(n -> n.path("step").asLong() > firstRollback + 20)
                .toList();
        long clippedAfter = after.stream().filter(n -> n.path("action").asText().equals("clip")).count();
        assertThat(clippedAfter).as("%s: capped steps among %d after the rollback", s, after.size())
                .isGreaterThan(after.size() / 2);
        assertThat(Train.ofType(capLines, "step").stream().filter(n -> n.path("step").asLong() > firstRollback)
                .mapToDouble(n -> n.path("lr_scale").asDouble()).max().orElseThrow())
                .as("the capped steps re-warm").isGreaterThan(Train.events(capLines, "rollback").get(0).path("lr_scale").asDouble());
        System.out.printf("%s: reference %.4f, unguarded %s, clip-only adaptive %s (%s), clip-only 1.0 %s (%s), auto %.4f (%s),"
                + " recovery.percentile=10 %.4f (%s)%n", s, reference, unguarded, clipOnly.thrown() != null ? "halted"
                : clipOnly.evalLoss(), clipOnly.summary(), clipFixed.thrown() != null ? "halted" : clipFixed.evalLoss(),
                clipFixed.summary(), auto.evalLoss(), auto.summary(), cap.evalLoss(), cap.summary());
    }
}
