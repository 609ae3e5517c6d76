package io.gradguard.djl.doctor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Runs the {@link Doctor}'s trials on one bench, in a fixed order: the model as it is, the suggested learning rate
 * (when the range test suggested one), a linear warm-up at your rate (when called for), each applicable
 * {@link StructureFix}, then the best pairs: the best fix at the suggested rate, and the two best fixes together (the
 * best two that compose, in either order). It
 * keeps, beside each trial, the fixes it applied (its recipe), in the same order.
 */
final class TrialRunner {

    private final List<StructureFix> applicable;
    private final double learningRate;
    private final double suggested;
    private final boolean lrTrial;
    private final boolean warmUpTrial;
    private final List<Trial> trials = new ArrayList<>();
    private final List<List<StructureFix>> recipes = new ArrayList<>();

    /**
     * @param applicable the fixes that apply to the model, in the doctor's order
     * @param learningRate your learning rate
     * @param suggested the range test's suggested rate; a learning-rate trial runs only when it is positive and finite
     * @param warmUpTrial true when a warm-up trial runs
     */
    TrialRunner(List<StructureFix> applicable, double learningRate, double suggested, boolean warmUpTrial) {
        this.applicable = applicable;
        this.learningRate = learningRate;
        this.suggested = suggested;
        this.lrTrial = Double.isFinite(suggested) && suggested > 0;
        this.warmUpTrial = warmUpTrial;
    }

    /** @return how many trials {@link #run} trains */
    int count() {
        int pairs = (applicable.isEmpty() || !lrTrial ? 0 : 1) + (applicable.size() >= 2 ? 1 : 0);
        return 1 + (lrTrial ? 1 : 0) + (warmUpTrial ? 1 : 0) + applicable.size() + pairs;
    }

    /**
     * Trains every trial, the pairs after ranking the single fixes.
     *
     * @param bench the bench, seeded and holding the batches
     * @param steps the steps of each trial
     * @param warmUpSteps the warm-up trial's warm-up steps
     */
    void run(TrialBench bench, int steps, int warmUpSteps) {
        trials.add(bench.train("as-is", List.of(), learningRate, steps));
        recipes.add(List.of());
        if (lrTrial) {
            trials.add(bench.train("lr", List.of(), suggested, steps));
            recipes.add(List.of());
        }
        if (warmUpTrial) {
            trials.add(bench.train("warmup", List.of(), learningRate, steps, warmUpSteps));
            recipes.add(List.of());
        }
        List<Trial> fixTrials = new ArrayList<>();
        for (StructureFix f : applicable) {
            Trial t = bench.train(f.name(), List.of(f), learningRate, steps);
            trials.add(t);
            fixTrials.add(t);
            recipes.add(List.of(f));
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < applicable.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.comparing(fixTrials::get, Trial::compare));
        if (!applicable.isEmpty() && lrTrial) {
            StructureFix best = applicable.get(order.get(0));
            trials.add(bench.train(best.name() + "+lr", List.of(best), suggested, steps));
            recipes.add(List.of(best));
        }
        if (applicable.size() >= 2) {
            pair(bench, order, steps);
        }
    }

    /**
     * The two best fixes together; where one cannot act on what the other made (LSUV finds no plain chain in a model
     * the residual fix wrapped, say), the other order, then the next pairs by rank, until one builds.
     */
    private void pair(TrialBench bench, List<Integer> order, int steps) {
        IllegalArgumentException last = null;
        for (int a = 0; a < order.size(); a++) {
            for (int b = a + 1; b < order.size(); b++) {
                StructureFix x = applicable.get(order.get(a));
                StructureFix y = applicable.get(order.get(b));
                for (List<StructureFix> two : List.of(List.of(x, y), List.of(y, x))) {
                    try {
                        trials.add(bench.train(two.get(0).name() + "+" + two.get(1).name(), two, learningRate, steps));
                        recipes.add(two);
                        return;
                    } catch (IllegalArgumentException e) {
                        last = e;
                    }
                }
            }
        }
        throw new IllegalStateException("Doctor: no two of the applicable fixes compose: " + last.getMessage(), last);
    }

    /** @return the trials, in the order run; the first is the model as it is */
    List<Trial> trials() {
        return trials;
    }

    /**
     * @param i a trial's index, in the order run
     * @return the fixes that trial applied, in order
     */
    List<StructureFix> recipe(int i) {
        return recipes.get(i);
    }

    /** @return every trial's fixes, in the order run */
    List<List<StructureFix>> recipes() {
        return recipes;
    }
}
