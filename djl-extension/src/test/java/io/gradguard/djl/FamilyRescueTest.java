package io.gradguard.djl;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.gradguard.core.GuardConfig;
import io.gradguard.models.Variant;
import io.gradguard.models.family.GeneratedScenario;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kinds of trouble the early-step, collapse and finite-instability rules exist for (an explosion in the first
 * steps, a collapse to a constant prediction, a finite climb-back, a finite oscillation at a high loss), each on a
 * set-up of the generated family's tuning split (DJL, PyTorch engine): unguarded it goes wrong, and the
 * default guard repairs it, in the same test. The oracle learning rates are those {@code OracleSearch}
 * found for these seeds (the best point of an unguarded grid in factors of 2); the reference is re-measured
 * here at that rate.
 */
class FamilyRescueTest {

    @TempDir
    Path dir;

    private static GeneratedScenario setup(long seed, float oracleLr) {
        return GeneratedScenario.of(seed).withOracle(oracleLr);
    }

    /** Trains the exploding twin without a guard: it must collapse, finite, to the constant predictor's loss. */
    private static void collapsesUnguarded(GeneratedScenario g) {
        float unguarded = Train.bare(g, Variant.EXPLODING);
        assertThat(unguarded).as("unguarded collapses, finite").isFinite();
        assertThat(unguarded).as("at the constant predictor's %s", g.constantLoss()).isGreaterThanOrEqualTo((float) (0.97 * g.constantLoss()));
    }

    /** The guarded run rolled back, learned again (well below the constant predictor) and ended near the reference. */
    private static void repaired(Train.Result guarded, GeneratedScenario g, float reference, float within) {
        assertThat(Train.events(guarded.lines(), "rollback")).isNotEmpty();
        assertThat(guarded.evalLoss()).isLessThan((float) (0.8 * g.constantLoss()));
        assertThat(guarded.evalLoss()).as("guarded vs reference %s", reference).isLessThanOrEqualTo(within * reference);
    }

    @Test
    void anExplosionInTheFirstStepsIsSeenAndRolledBackToStepZero() {
        // 11-layer tanh MLP, plain SGD at 35x its oracle rate, 150 steps
        GeneratedScenario g = setup(1002, 0.2f);
        float reference = Train.bare(g, Variant.REFERENCE);
        float unguarded = Train.bare(g, Variant.EXPLODING);
        assertThat(!Float.isFinite(unguarded) || unguarded >= 0.97 * g.constantLoss())
                .as("unguarded %s, constant predictor %s", unguarded, g.constantLoss()).isTrue();

        Train.Result guarded = Train.loop(g, Variant.EXPLODING, GuardConfig.ofDefaults(), dir.resolve("early.jsonl"));
        List<JsonNode> rises = Train.events(guarded.lines(), "rise");
        assertThat(rises).isNotEmpty();
        assertThat(rises.get(0).path("step").asLong()).as("seen in the first steps").isLessThanOrEqualTo(5);
        JsonNode rollback = Train.events(guarded.lines(), "rollback").get(0);
        assertThat(rollback.path("to_step").asLong()).isZero();
        assertThat(guarded.thrown()).isNull();
        assertThat(guarded.evalLoss()).as("guarded vs reference %s", reference).isLessThanOrEqualTo(1.5f * reference);
    }

    @Test
    void aCollapseToAConstantPredictionIsRolledBack() {
        // 7-layer leaky-ReLU MLP, Adam at 5.8x its oracle rate, 5 classes, 250 steps: one step blows up, then
        // the network predicts a constant
        GeneratedScenario g = setup(1048, 0.008f);
        float reference = Train.bare(g, Variant.REFERENCE);
        collapsesUnguarded(g);

        Train.Result guarded = Train.loop(g, Variant.EXPLODING, GuardConfig.ofDefaults(), dir.resolve("collapse.jsonl"));
        assertThat(Train.events(guarded.lines(), "collapse")).isNotEmpty();
        repaired(guarded, g, reference, 1.5f);
    }

    @Test
    void aFiniteClimbBackIsSeenAndTheRateLowered() {
        // GRU, Adam at 69x its oracle rate with warm-up and cosine, 1000 steps: unguarded it stays finite but the
        // loss climbs back up and ends far above the reference
        GeneratedScenario g = setup(1055, 0.032f);
        float reference = Train.bare(g, Variant.REFERENCE);
        float unguarded = Train.bare(g, Variant.EXPLODING);
        assertThat(unguarded).as("unguarded stays finite").isFinite();
        assertThat(unguarded).as("unguarded vs reference %s", reference).isGreaterThanOrEqualTo(10 * reference);
        // the reference solves the task: its loss is under 1% of the constant predictor's
        double solved = 0.01 * g.constantLoss();
        assertThat((double) reference).isLessThan(solved);
        assertThat((double) unguarded).isGreaterThan(10 * solved);

        Train.Result guarded = Train.loop(g, Variant.EXPLODING, GuardConfig.ofDefaults(), dir.resolve("climb.jsonl"));
        assertThat(Train.events(guarded.lines(), "rise").stream().map(e -> e.path("detail").asText()))
                .anySatisfy(d -> assertThat(d).contains("climbed to").contains("the best it had reached"));
        assertThat(guarded.summary().lrScale()).isLessThan(0.5);
        // an order of magnitude below the unguarded run; it does not solve the task: after the rollbacks the stall
        // cut (blocks of 25 steps) halves the rate twice more on the slow, noisy descent, and the run ends near 19x
        // the reference (with blocks of 50 it solved it; the tuning sweep chose 25 over all set-ups)
        assertThat(guarded.evalLoss()).as("guarded vs unguarded %s", unguarded).isLessThan(0.1f * unguarded);
    }

    @Test
    void aFiniteOscillationAtAHighLossIsSeenAndTheRateLowered() {
        // one-layer GRU, plain SGD at 3.4x its oracle rate with warm-up and cosine, 6 classes, 200 steps: the loss
        // leaves its start at step 5 and swings between 5x and 16x its first value for over 100 steps, gradient
        // bursts of 10^4, never a non-finite value
        GeneratedScenario g = setup(1033, 1.6f);
        float reference = Train.bare(g, Variant.REFERENCE);
        float unguarded = Train.bare(g, Variant.EXPLODING);
        // the same run recorded step by step: monitor measures and never acts, so it ends exactly where unguarded does
        Train.Result watched = Train.loop(g, Variant.EXPLODING, GuardConfig.custom().set("policy", "monitor", "test").build(),
                dir.resolve("oscillation-unguarded.jsonl"));
        assertThat(watched.evalLoss()).isEqualTo(unguarded);
        List<JsonNode> steps = Train.ofType(watched.lines(), "step");
        double first = steps.get(0).path("loss").asDouble();
        int high = 0;
        int turns = 0;
        double maxNorm = 0;
        for (int i = 0; i < steps.size(); i++) {
            double loss = steps.get(i).path("loss").asDouble();
            assertThat(loss).as("step %d", i).isFinite();
            maxNorm = Math.max(maxNorm, steps.get(i).path("grad_norm").asDouble());
            if (loss > 3 * first) {
                high++;
                if (i >= 2) {
                    double d1 = loss - steps.get(i - 1).path("loss").asDouble();
                    double d0 = steps.get(i - 1).path("loss").asDouble() - steps.get(i - 2).path("loss").asDouble();
                    turns += d0 * d1 < 0 ? 1 : 0;
                }
            }
        }
        assertThat(high).as("steps above 3x the first loss").isGreaterThanOrEqualTo(50);
        assertThat(turns).as("up/down turns while high").isGreaterThanOrEqualTo(25);
        assertThat(maxNorm).as("largest gradient norm, finite").isFinite().isGreaterThan(1000);
        assertThat(unguarded).as("unguarded vs reference %s", reference).isGreaterThanOrEqualTo(2 * reference);

        Train.Result guarded = Train.loop(g, Variant.EXPLODING, GuardConfig.ofDefaults(), dir.resolve("oscillation.jsonl"));
        assertThat(Train.events(guarded.lines(), "rise")).isNotEmpty();
        assertThat(Train.events(guarded.lines(), "rollback")).isNotEmpty();
        assertThat(guarded.summary().lrScale()).isLessThan(1.0);
        assertThat(guarded.evalLoss()).as("guarded vs reference %s", reference).isLessThanOrEqualTo(1.1f * reference);
    }

    @Test
    void aPlateauAfterTheRepairIsCutUntilTheRunLearnsAgain() {
        // 4-layer GELU MLP, Adam at 82x its oracle rate, 8 classes, 880 steps: unguarded it collapses; the rollback
        // at step 2 cuts the rate to 0.3-0.4x, still 33x the oracle, where the loss sits on a plateau for 800 steps
        GeneratedScenario g = setup(1032, 0.002f);
        float reference = Train.bare(g, Variant.REFERENCE);
        float unguarded = Train.bare(g, Variant.EXPLODING);
        assertThat(!Float.isFinite(unguarded) || unguarded >= 0.97 * g.constantLoss())
                .as("unguarded %s, constant predictor %s", unguarded, g.constantLoss()).isTrue();

        Train.Result noStall = Train.loop(g, Variant.EXPLODING, GuardConfig.custom().set("stall.steps", "0", "test").build(),
                dir.resolve("plateau-off.jsonl"));
        assertThat(Train.events(noStall.lines(), "rollback")).isNotEmpty();
        assertThat(noStall.evalLoss()).as("repaired but stuck (reference %s)", reference).isGreaterThan(2 * reference);

        Train.Result guarded = Train.loop(g, Variant.EXPLODING, GuardConfig.ofDefaults(), dir.resolve("plateau.jsonl"));
        assertThat(Train.events(guarded.lines(), "lr_cut").stream().map(e -> e.path("detail").asText()))
                .anySatisfy(d -> assertThat(d).contains("stopped improving"));
        assertThat(guarded.summary().lrScale()).isLessThan(noStall.summary().lrScale());
        assertThat(guarded.evalLoss()).as("guarded vs reference %s", reference).isLessThanOrEqualTo(1.5f * reference);
    }

    /**
     * The set-up collapses unguarded and under the guard with {@code key} at 0 (no other rule sees it); with the
     * defaults the rule reports an {@code event} whose detail contains {@code detail}, and the run is rolled back, cut
     * and repaired to within 1.6x of the reference.
     */
    private void onlyThisRuleRepairs(GeneratedScenario g, String key, String event, String detail) {
        float reference = Train.bare(g, Variant.REFERENCE);
        collapsesUnguarded(g);

        Train.Result off = Train.loop(g, Variant.EXPLODING, GuardConfig.custom().set(key, "0", "test").build(),
                dir.resolve(key + "-off.jsonl"));
        assertThat(off.evalLoss()).as("with %s=0 the run ends at the constant predictor's loss", key)
                .isGreaterThanOrEqualTo((float) (0.97 * g.constantLoss()));

        Train.Result guarded = Train.loop(g, Variant.EXPLODING, GuardConfig.ofDefaults(), dir.resolve(key + ".jsonl"));
        assertThat(Train.events(guarded.lines(), event).stream().map(e -> e.path("detail").asText()))
                .anySatisfy(d -> assertThat(d).contains(detail));
        assertThat(guarded.summary().lrScale()).isLessThan(1.0);
        repaired(guarded, g, reference, 1.6f);
    }

    @Test
    void aNetworkThatDiedSilentlyInItsFirstStepsIsRolledBackAndCut() {
        // 7-layer ReLU MLP, AdamW at 7.8x its oracle rate with warm-up and cosine, 5 classes: no NaN, no spike the
        // statistics could see, no rising loss; the first updates kill every ReLU unit and the output bias alone
        // learns the class mean. Only the gradients show it: all but the last layer's are exactly zero
        onlyThisRuleRepairs(setup(1016, 0.016f), "dead.share", "collapse", "have been zero");
    }

    @Test
    void aRunThatSlidBackToAHigherLossForGoodIsRolledBackAndCut() {
        // 1-layer ReLU RNN (16 units), SGD with momentum at 27x its oracle rate, sequences of 11 steps, 5 classes:
        // the loss falls for 50 steps, then climbs back and bounces about the constant predictor's loss for good.
        // No NaN, no spike the statistics could see, and a climb far too slow for the regression rule's bar
        onlyThisRuleRepairs(setup(1063, 0.01f), "slide.ratio", "rise", "has stayed above");
    }
}
