package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import ai.djl.training.Trainer;
import ai.djl.util.Pair;
import com.fasterxml.jackson.databind.JsonNode;
import io.gradguard.core.GuardConfig;
import io.gradguard.models.DeepMlpScenario;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.Variant;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Fault suite, bad values (PyTorch engine, the deep MLP at its healthy reference rate, loop guard): at step
 * {@value #AT} one fault is injected after backward, then training goes on. Every fault either ends the
 * unguarded run (NaN, or far off its reference), and the guard keeps the run within a few percent of its
 * reference by throwing away the faulty step only; or it does no harm unguarded either, and the guard must
 * not make it worse.
 */
class FaultValuesTest {

    private static final int AT = 150;
    private static float reference;

    @TempDir
    Path dir;

    @BeforeAll
    static void reference() {
        reference = Train.bare(new DeepMlpScenario(), Variant.REFERENCE);
    }

    /**
     * Trains the scenario once; at step {@link #AT} {@code fault} may change the trainer's state after backward
     * and returns the loss array to hand to the step (the batch's own, or a replacement).
     */
    private static float run(DjlGuard guard, BiFunction<Trainer, NDArray, NDArray> fault) {
        DeepMlpScenario s = new DeepMlpScenario();
        try (ScenarioRun run = s.open(Variant.REFERENCE); Trainer t = run.newTrainer()) {
            AtomicInteger step = new AtomicInteger();
            run.trainByHand(t, (tr, loss) -> {
                NDArray l = step.getAndIncrement() == AT ? fault.apply(tr, loss) : loss;
                if (guard == null) {
                    tr.step();
                } else {
                    guard.step(tr, l);
                }
                if (l != loss) {
                    l.close();
                }
            });
            return run.evalLoss(t);
        }
    }

    private static NDArray firstWeightGradient(Trainer t) {
        return firstWeight(t).getArray().getGradient();
    }

    private static Parameter firstWeight(Trainer t) {
        for (Pair<String, Parameter> p : t.getModel().getBlock().getParameters()) {
            if (p.getValue().getArray().getShape().dimension() >= 2) {
                return p.getValue();
            }
        }
        throw new IllegalStateException("no weight matrix");
    }

    private float guarded(String name, BiFunction<Trainer, NDArray, NDArray> fault, List<JsonNode> events) {
        Path log = dir.resolve(name + ".jsonl");
        float loss;
        try (DjlGuard guard = new DjlGuard(GuardConfig.custom().log(log).build())) {
            loss = run(guard, fault);
        }
        events.addAll(Train.readLog(log));
        return loss;
    }

    /** NaN or Inf in one gradient element: the step is skipped, nothing else is lost. */
    @ParameterizedTest
    @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})
    void aNonFiniteGradientCostsOnlyItsStep(float value) {
        BiFunction<Trainer, NDArray, NDArray> fault = (t, loss) -> {
            firstWeightGradient(t).set(new NDIndex("0, 0"), value);
            return loss;
        };
        assertThat(run(null, fault)).as("unguarded").isNaN();
        List<JsonNode> log = new java.util.ArrayList<>();
        float guarded = guarded("grad-" + value, fault, log);
        assertThat(Train.events(log, "nonfinite")).extracting(e -> e.path("step").asLong()).containsExactly((long) AT);
        assertThat(Train.events(log, "rollback")).isEmpty();
        assertThat(guarded).as("guarded vs reference %s", reference).isBetween(0.97f * reference, 1.03f * reference);
    }

    /**
     * One gradient blown up by 1e3 to 1e30 (from 1e20 on, the squares of its elements overflow float32; unguarded,
     * 1e3 leaves the run 1.44x worse than its reference, the larger ones NaN or far off): the
     * batch is an outlier and is skipped; the guard reports its real magnitude, finite.
     */
    @ParameterizedTest
    @ValueSource(floats = {1e3f, 1e10f, 1e20f, 1e30f})
    void aGradientSpikeCostsOnlyItsStep(float factor) {
        BiFunction<Trainer, NDArray, NDArray> fault = (t, loss) -> {
            firstWeightGradient(t).muli(factor);
            return loss;
        };
        float unguarded = run(null, fault);
        assertThat(!Float.isFinite(unguarded) || unguarded > 1.2f * reference)
                .as("unguarded ends at %s, reference %s", unguarded, reference).isTrue();
        List<JsonNode> log = new java.util.ArrayList<>();
        float guarded = guarded("spike-" + factor, fault, log);
        List<JsonNode> spikes = Train.events(log, "spike");
        assertThat(spikes).extracting(e -> e.path("step").asLong()).contains((long) AT);
        assertThat(Train.events(log, "nonfinite")).as("a finite gradient is never called non-finite").isEmpty();
        assertThat(Train.events(log, "rollback")).isEmpty();
        assertThat(guarded).as("guarded vs reference %s", reference).isBetween(0.97f * reference, 1.03f * reference);
    }

    /**
     * The loss handed to the guard is NaN or Inf while the gradients are finite (a loss computed apart from the
     * graph, a reduction that overflowed): the step is skipped as non-finite. Unguarded the update goes on, so
     * the guard costs one step and nothing more.
     */
    @ParameterizedTest
    @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY})
    void aNonFiniteLossCostsOnlyItsStep(float value) {
        BiFunction<Trainer, NDArray, NDArray> fault = (t, loss) -> loss.getManager().create(value);
        List<JsonNode> log = new java.util.ArrayList<>();
        float guarded = guarded("loss-" + value, fault, log);
        assertThat(Train.events(log, "nonfinite")).extracting(e -> e.path("step").asLong()).containsExactly((long) AT);
        assertThat(guarded).as("guarded vs reference %s", reference).isBetween(0.97f * reference, 1.03f * reference);
    }

    /** Inf written into the weights by something else (NaN: {@link CorruptedWeightsTest}): rolled back. */
    @ParameterizedTest
    @ValueSource(floats = {Float.POSITIVE_INFINITY})
    void anInfiniteWeightIsRolledBack(float value) {
        BiFunction<Trainer, NDArray, NDArray> fault = (t, loss) -> {
            firstWeight(t).getArray().set(new NDIndex("0, 0"), value);
            return loss;
        };
        assertThat(run(null, fault)).as("unguarded").isNaN();
        List<JsonNode> log = new java.util.ArrayList<>();
        float guarded = guarded("weight-" + value, fault, log);
        assertThat(Train.events(log, "rollback")).isNotEmpty();
        assertThat(guarded).as("guarded vs reference %s", reference).isFinite().isLessThan(2f * reference);
    }
}
