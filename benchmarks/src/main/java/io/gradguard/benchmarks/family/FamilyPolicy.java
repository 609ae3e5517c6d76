package io.gradguard.benchmarks.family;

import ai.djl.training.Trainer;
import io.gradguard.benchmarks.anchors.Agc;
import io.gradguard.benchmarks.anchors.AutoClip;
import io.gradguard.benchmarks.anchors.BoldDriver;
import io.gradguard.benchmarks.anchors.GlobalNormClipper;
import io.gradguard.benchmarks.anchors.LrScaled;
import io.gradguard.benchmarks.anchors.NormRule;
import io.gradguard.benchmarks.anchors.ReduceLrOnPlateau;
import io.gradguard.benchmarks.anchors.ZClip;
import io.gradguard.core.GuardConfig;
import io.gradguard.djl.DjlGuard;
import io.gradguard.djl.GradGuardDivergedException;
import io.gradguard.models.ScenarioRun;
import io.gradguard.models.family.GeneratedScenario;
import java.util.List;
import java.util.function.Supplier;

/**
 * A way of training a generated set-up: no guard, an anchor from the field, or GradGuard. Every policy
 * gets the same budget, the set-up's steps: one gradient evaluation per batch, whatever the policy does
 * with it (a rolled-back or rejected step still used its batch).
 */
public interface FamilyPolicy {

    /** @return the column key */
    String key();

    /**
     * Trains the set-up once at a learning rate.
     *
     * @param g the set-up
     * @param lr the learning rate
     * @return the outcome
     */
    Outcome run(GeneratedScenario g, float lr);

    /** @return the anchors and GradGuard {@code auto} with its defaults, in table order */
    static List<FamilyPolicy> all() {
        return List.of(none(), clipper("fixed-norm-1.0", () -> new NormRule.Fixed(1.0)),
                clipper("clip-p90", () -> new AutoClip(90)), clipper("autoclip-p10", () -> new AutoClip(10)),
                clipper("zclip", ZClip::new), agc(), plateau(), boldDriver(), gradGuard(GuardConfig.ofDefaults()));
    }

    /**
     * Looks a policy up by key.
     *
     * @param key the key, or {@code gradguard-auto}
     * @param config GradGuard's configuration
     * @return the policy
     */
    static FamilyPolicy byKey(String key, GuardConfig config) {
        if (key.equals("gradguard-auto")) {
            return gradGuard(config);
        }
        return all().stream().filter(p -> p.key().equals(key)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown policy '" + key + "'; known: "
                        + all().stream().map(FamilyPolicy::key).toList()));
    }

    /** @return plain training */
    static FamilyPolicy none() {
        return simple("none", () -> (t, l) -> t.step(), s -> 0L);
    }

    /**
     * @param key the column key
     * @param rule the clipping rule, fresh per run
     * @return global-norm clipping by that rule
     */
    static FamilyPolicy clipper(String key, Supplier<NormRule> rule) {
        return simple(key, () -> new GlobalNormClipper(rule.get()), s -> ((GlobalNormClipper) s).clipped());
    }

    /** @return adaptive gradient clipping, lambda 0.01 */
    static FamilyPolicy agc() {
        return simple("agc-0.01", Agc::new, s -> ((Agc) s).clipped());
    }

    /** @return ReduceLROnPlateau, factor 0.5 */
    static FamilyPolicy plateau() {
        return simple("plateau", ReduceLrOnPlateau::new, s -> ((ReduceLrOnPlateau) s).changes());
    }

    /** @return the bold driver */
    static FamilyPolicy boldDriver() {
        return simple("bold-driver", BoldDriver::new, s -> ((BoldDriver) s).rejected());
    }

    /**
     * @param config the guard's configuration
     * @return GradGuard through the loop guard
     */
    static FamilyPolicy gradGuard(GuardConfig config) {
        return new FamilyPolicy() {
            @Override
            public String key() {
                return "gradguard-auto";
            }

            @Override
            public Outcome run(GeneratedScenario g, float lr) {
                long t0 = System.nanoTime();
                EventTally tally = new EventTally();
                try (ScenarioRun run = g.open(lr); Trainer t = run.newTrainer(); DjlGuard guard = new DjlGuard(config)) {
                    guard.addGuardListener(tally);
                    boolean halted = false;
                    try {
                        run.trainByHand(t, guard::step);
                    } catch (GradGuardDivergedException e) {
                        halted = true;
                    }
                    float loss = halted ? Float.NaN : run.evalLoss(t);
                    var s = guard.summary();
                    long lrChanges = guard.guard().schedule().history().size();
                    return new Outcome(loss, halted, s.clipped() + s.skipped() + s.rollbacks() + lrChanges, s.rollbacks(),
                            tally.redone(), s.lrScale(), (System.nanoTime() - t0) / 1e9, tally.text());
                }
            }
        };
    }

    private static FamilyPolicy simple(String key, Supplier<ScenarioRun.Stepper> stepper,
            java.util.function.ToLongFunction<ScenarioRun.Stepper> interventions) {
        return new FamilyPolicy() {
            @Override
            public String key() {
                return key;
            }

            @Override
            public Outcome run(GeneratedScenario g, float lr) {
                long t0 = System.nanoTime();
                ScenarioRun.Stepper s = stepper.get();
                try (ScenarioRun run = g.open(lr); Trainer t = run.newTrainer()) {
                    run.trainByHand(t, s);
                    float loss = run.evalLoss(t);
                    double scale = s instanceof LrScaled l ? l.scale() : 1.0;
                    return new Outcome(loss, false, interventions.applyAsLong(s), 0, 0, scale, (System.nanoTime() - t0) / 1e9);
                } finally {
                    if (s instanceof AutoCloseable c) {
                        try {
                            c.close();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }
                }
            }
        };
    }
}
