package io.gradguard.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real shaded jar with {@code -javaagent}, in child JVMs, on sample apps that know nothing of
 * GradGuard (compiled by the test). Each rescue test shows the unguarded run diverging in the same test.
 */
class AgentIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path apps;

    @TempDir
    Path dir;

    @BeforeAll
    static void compile() {
        ChildJvm.compileApps(apps);
    }

    private static ChildJvm.Run app(String agentArgs, String main, String... args) {
        return ChildJvm.run(apps, true, false, agentArgs, main, args);
    }

    private static List<JsonNode> log(Path p) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(p)) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    private static float reference(String scenario) {
        ChildJvm.Run r = app(null, "LoopApp", scenario, "REFERENCE");
        assertThat(r.result()).as(r.describe()).isNotNull().isFinite();
        return r.result();
    }

    @Test
    void easyTrainAppThatDjlAbortsCompletesUnderTheAgent() throws Exception {
        float reference = reference("deep-mlp-sgd-momentum-lr5x");
        ChildJvm.Run bare = app(null, "EasyTrainApp", "deep-mlp-sgd-momentum-lr5x", "EXPLODING", "basic");
        assertThat(bare.diverged()).as(bare.describe()).isTrue();

        Path log = dir.resolve("agent.jsonl");
        ChildJvm.Run guarded = app("log=" + log, "EasyTrainApp", "deep-mlp-sgd-momentum-lr5x", "EXPLODING", "basic");
        assertThat(guarded.diverged()).as(guarded.describe()).isFalse();
        assertThat(guarded.result()).as(guarded.describe()).isFinite().isLessThanOrEqualTo(2 * reference);
        assertThat(guarded.err()).contains("GradGuard agent 0.1.0: guarding DJL trainers");
        // the run needed help: the agent prints the diagnosis when it closes the guard
        assertThat(guarded.err()).contains("GradGuard diagnosis (").contains("Learning rate:");

        List<JsonNode> lines = log(log);
        JsonNode header = lines.get(0);
        assertThat(header.path("attachment").asText()).isEqualTo("agent");
        assertThat(header.path("agent_install_ms").asLong()).isGreaterThanOrEqualTo(0);
        assertThat(lines.stream().filter(n -> n.path("type").asText().equals("step")).count()).isEqualTo(300);
        assertThat(lines.stream().anyMatch(n -> n.path("kind").asText().equals("rollback"))).isTrue();
        assertThat(lines.get(lines.size() - 1).path("type").asText()).isEqualTo("end");
    }

    @Test
    void appWithDjlLoggingListenersCompletesUnderTheAgent() {
        // Adam at 100x, a scenario whose unguarded reference is stable in a fresh child JVM: the test is about DJL's
        // logging listeners, not about a reference at the edge of reproducibility
        float reference = reference("adam-overshoot-lr100x");
        ChildJvm.Run bare = app(null, "EasyTrainApp", "adam-overshoot-lr100x", "EXPLODING", "logging");
        assertThat(bare.diverged() || !Float.isFinite(bare.result()) || bare.result() >= 10 * reference)
                .as(bare.describe()).isTrue();
        ChildJvm.Run guarded = app("", "EasyTrainApp", "adam-overshoot-lr100x", "EXPLODING", "logging");
        assertThat(guarded.diverged()).as(guarded.describe()).isFalse();
        assertThat(guarded.result()).as(guarded.describe()).isFinite().isLessThanOrEqualTo(2 * reference);
    }

    @Test
    void handWrittenAdamLoopWithACorruptedBatchIsSaved() {
        float reference = reference("corrupted-batch-adam");
        ChildJvm.Run bare = app(null, "LoopApp", "corrupted-batch-adam", "EXPLODING");
        assertThat(bare.result()).as(bare.describe()).isGreaterThanOrEqualTo(10 * reference);
        ChildJvm.Run guarded = app("", "LoopApp", "corrupted-batch-adam", "EXPLODING");
        assertThat(guarded.result()).as(guarded.describe()).isFinite().isLessThanOrEqualTo(2 * reference);
        assertThat(guarded.err()).contains("outlier batch");
    }

    @Test
    void healthyRunHasTheSameLossWithAndWithoutTheAgent() {
        ChildJvm.Run bare = app(null, "EasyTrainApp", "corrupted-batch-adam", "REFERENCE", "basic");
        ChildJvm.Run guarded = app("", "EasyTrainApp", "corrupted-batch-adam", "REFERENCE", "basic");
        assertThat(guarded.result()).as(guarded.describe()).isEqualTo(bare.result());
        // the app's main thread and the agent's set-up thread must never wait on each other
        assertThat(guarded.err()).doesNotContain("GradGuard agent: waited");
    }

    @Test
    void unmodifiedTensorFlowAppThatExplodesIsSavedByTheAgent() throws Exception {
        String tuned = Float.toString(io.gradguard.models.tf.TfMlpScenario.TUNED_SGD_MOMENTUM_LR);
        String exploding = Float.toString(io.gradguard.models.tf.TfMlpScenario.EXPLODING_SGD_MOMENTUM_LR);
        ChildJvm.Run reference = app(null, "TfApp", tuned);
        ChildJvm.Run bare = app(null, "TfApp", exploding);
        Path jsonl = dir.resolve("tf.jsonl");
        ChildJvm.Run guarded = app("log=" + jsonl, "TfApp", exploding);
        System.out.printf(java.util.Locale.ROOT, "agent, TensorFlow app: reference %s, unguarded %s, guarded %s%n",
                reference.result(), bare.result(), guarded.result());
        assertThat(reference.result()).as(reference.describe()).isNotNull().isFinite();
        assertThat(bare.result()).as(bare.describe()).isNaN();
        assertThat(guarded.result()).as(guarded.describe()).isFinite().isLessThan(2.5f * reference.result());
        assertThat(guarded.err()).contains("guarding DJL trainers and TensorFlow Java optimizers");
        assertThat(guarded.err()).contains("GradGuard diagnosis (");
        List<JsonNode> lines = log(jsonl);
        assertThat(lines.get(0).path("attachment").asText()).isEqualTo("agent");
        assertThat(lines.get(0).path("engine").asText()).startsWith("TensorFlow Java");
        assertThat(lines).anyMatch(n -> "rollback".equals(n.path("kind").asText()));
        assertThat(lines.get(lines.size() - 1).path("type").asText()).as("end record written at exit").isEqualTo("end");
        assertThat(lines.stream().filter(n -> "step".equals(n.path("type").asText())).count()).isEqualTo(400);
    }

    @Test
    void tensorFlowHealthyRunIsIdenticalUnderTheAgentAndTensorflowEnabledFalseLeavesItAlone() {
        String tuned = Float.toString(io.gradguard.models.tf.TfMlpScenario.TUNED_SGD_MOMENTUM_LR);
        ChildJvm.Run bare = app(null, "TfApp", tuned);
        ChildJvm.Run guarded = app("", "TfApp", tuned);
        assertThat(guarded.result()).as(guarded.describe()).isEqualTo(bare.result());
        String exploding = Float.toString(io.gradguard.models.tf.TfMlpScenario.EXPLODING_SGD_MOMENTUM_LR);
        ChildJvm.Run off = app("tensorflow.enabled=false", "TfApp", exploding);
        assertThat(off.result()).as(off.describe()).isNaN();
        assertThat(off.err()).contains("guarding DJL trainers (");
    }

    /**
     * Fault suite: a DJL whose shape the agent does not know (a future {@code Trainer} without the fields and
     * methods the agent hooks): one warning naming what is missing, and the app runs as without the agent.
     */
    @Test
    void aDjlOfUnknownShapeGetsOneWarningAndTheAppRuns(@TempDir Path dir) {
        Path classes = ChildJvm.compile(Path.of("src/test/resources/futuredjl"), dir, List.of());
        List<String> tail = List.of("-cp", classes.toString(), "FutureDjlApp");
        ChildJvm.Run plain = ChildJvm.run(null, tail);
        ChildJvm.Run guarded = ChildJvm.run("", tail);
        assertThat(plain.exit()).as(plain.describe()).isZero();
        assertThat(guarded.exit()).as(guarded.describe()).isZero();
        assertThat(guarded.result()).isNotNull().isEqualTo(plain.result());
        List<String> lines = guarded.err().lines().filter(l -> l.contains("GradGuard")).toList();
        assertThat(lines).as(guarded.describe()).hasSize(1);
        assertThat(lines.get(0)).contains("shape this agent does not know").contains("ai.djl.training.Trainer.step with 0")
                .contains("parameterStore").contains("unguarded");
    }

    /**
     * Fault suite: the app is killed with {@code kill -9} part-way through a guarded run. The event log, flushed
     * line by line, is read by {@code RunLog} up to where the process died: every complete step record, at most
     * one unreadable (cut) last line, counted and reported rather than thrown.
     */
    @Test
    void aRunKilledPartWayLeavesALogThatReads(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("killed.jsonl");
        Process p = ChildJvm.start(apps, true, false, "log=" + log, "LongLoopApp", "deep-mlp-sgd-momentum-lr5x",
                "EXPLODING", "1000");
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (lines(log) < 400 && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(p.isAlive()).as("still training when killed").isTrue();
        p.destroyForcibly().waitFor();
        assertThat(p.exitValue()).as("killed by SIGKILL").isEqualTo(137);
        io.gradguard.log.RunLog run = io.gradguard.log.RunLog.read(log);
        assertThat(run.header()).as("the run header").isNotEmpty();
        assertThat(run.steps().size()).isGreaterThanOrEqualTo(350);
        assertThat(run.badLines()).as("at most the line being written when killed").isLessThanOrEqualTo(1);
        List<String> raw = Files.readAllLines(log);
        assertThat(raw.stream().noneMatch(l -> l.contains("\"type\":\"end\"")))
                .as("no end record: the run never closed").isTrue();
        assertThat(run.diagnose()).isNotNull();
    }

    private static long lines(Path log) throws java.io.IOException {
        if (!Files.exists(log)) {
            return 0;
        }
        try (var s = Files.lines(log)) {
            return s.count();
        }
    }

    @Test
    void badArgumentIsReportedAndTheAppRunsUnguarded() {
        ChildJvm.Run r = app("policy=bogus", "EasyTrainApp", "deep-mlp-sgd-momentum-lr5x", "EXPLODING", "basic");
        assertThat(r.exit()).isZero();
        assertThat(r.err()).contains("GradGuard config 'policy' must be one of auto, clip, monitor, off, but was 'bogus'"
                + " (from agent argument) -- the application runs unguarded");
        assertThat(r.diverged()).as("unguarded: DJL aborts as it would without the agent").isTrue();
    }

    @Test
    void strictTurnsABadArgumentIntoAStartupFailure() {
        ChildJvm.Run r = app("policy=bogus,strict=true", "EasyTrainApp", "deep-mlp-sgd-momentum-lr5x", "EXPLODING", "basic");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("GradGuard agent failed to start (strict=true)");
        assertThat(r.out()).doesNotContain("RESULT");
    }

    @Test
    void withoutDjlTheAgentSaysSoOnceAndStaysOutOfTheWay() {
        ChildJvm.Run r = ChildJvm.run(apps, false, false, "", "NoDjlApp", "world");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("HELLO world");
        assertThat(r.err().lines().filter(l -> l.startsWith("GradGuard")).toList())
                .containsExactly("GradGuard agent: neither DJL (ai.djl:api) nor TensorFlow Java"
                        + " (org.tensorflow:tensorflow-framework) is on the class path; nothing to guard"
                        + " -- the application runs unguarded");
        ChildJvm.Run strict = ChildJvm.run(apps, false, false, "strict=true", "NoDjlApp");
        assertThat(strict.exit()).isNotZero();
    }

    @Test
    void attachesToARunningJvmWhoseDjlClassesAreAlreadyLoaded() throws Exception {
        Path go = dir.resolve("go");
        Path log = dir.resolve("attached.jsonl");
        Process p = ChildJvm.start(apps, true, false, null, "AttachApp", go.toString());
        Path out = ChildJvm.lastOut();
        String pid = null;
        for (int i = 0; i < 600 && pid == null; i++) {
            pid = Files.readString(out).lines().filter(l -> l.startsWith("READY ")).map(l -> l.substring(6).trim())
                    .findFirst().orElse(null);
            Thread.sleep(50);
        }
        assertThat(pid).as("the app started").isNotNull();
        com.sun.tools.attach.VirtualMachine vm = com.sun.tools.attach.VirtualMachine.attach(pid);
        try {
            vm.loadAgent(ChildJvm.agentJar().toAbsolutePath().toString(), "log=" + log);
        } finally {
            vm.detach();
        }
        Files.writeString(go, "go");
        ChildJvm.Run r = ChildJvm.finish(p);
        assertThat(r.diverged()).as(r.describe()).isFalse();
        assertThat(r.result()).as(r.describe()).isFinite();
        assertThat(log(log).get(0).path("attachment").asText()).isEqualTo("agent");
    }

    @Test
    void anAppThatGuardsItselfIsGuardedOnce() {
        for (String how : List.of("listener", "loop")) {
            Path log = dir.resolve("agent-" + how + ".jsonl");
            ChildJvm.Run r = ChildJvm.run(apps, true, true, "log=" + log, "OwnGuardApp", "deep-mlp-sgd-momentum-lr5x", how);
            assertThat(r.result()).as(r.describe()).isFinite();
            assertThat(r.out()).as(r.describe()).contains("OWN 300");
            assertThat(Files.exists(log)).as("the agent stepped aside for the app's own %s", how).isFalse();
        }
    }
}
