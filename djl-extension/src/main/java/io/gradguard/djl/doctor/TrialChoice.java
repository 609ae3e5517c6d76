package io.gradguard.djl.doctor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * Ranks the {@link Doctor}'s trials and picks the one to prescribe.
 *
 * <p>Trials rank by the loss on held-back batches after the trial (lower is better; diverged last). A change to the
 * model is made only when it is called for (the model as it is diverged in its trial, or the flow check found
 * something out of range) and earned (the model as it is ends above the best trial's loss times {@code 1 +
 * changeMargin}); otherwise the model as it is is chosen. When a change is made, the simplest trial that ends within
 * {@code margin} of the best wins: fewest changes (each fix counts one, a new learning rate one, a warm-up one), ties
 * to the better rank.
 *
 * <p>One exception to the margin: a <b>stuck</b> model. When the flow check finds the signal out of range with depth
 * both ways, the activations (forward) and the backward signal, the mark of an initialization that does not fit the
 * net, and the model as it is does not learn in its trial (its loss after the trial is not {@value #STUCK_PROGRESS} of
 * its first step's loss lower), the best re-initialization at your rate ({@link StructureFix#reinitializes()}: He,
 * Xavier, orthogonal, LSUV, Fixup; no new rate, no warm-up) is prescribed when the model as it is ends above it times
 * {@code 1 + stuckMargin} (a lead beyond a short trial's noise, 5% by default) instead of {@code 1 + changeMargin}: a
 * re-initialization keeps the structure and every name, and a model that does not learn at all has little to lose.
 * Both chosen on the generated family's tuning split (RESULTS.md, the structure doctor's tables and "where the stuck
 * margin comes from").
 *
 * <p>A second exception, off unless asked for ({@link Doctor.Builder#cellSwap}): a <b>vanilla recurrent cell</b>. The
 * flow check cannot call for swapping it (at initialization a gated cell's gradient through time fades as well; its
 * gates learn to keep it), and a short trial shows only the start of a gated cell's lead. So when the model as it is trains and a cell-swap trial at your rate
 * ({@link StructureFix#swapsCell()}, alone or with re-initializations; no new rate, no warm-up) ends below the model as
 * it is divided by {@code 1 + cellSwapMargin}, the best such trial is prescribed, whether or not the flow check found
 * anything. On the generated family's tuning split (RESULTS.md, "where the cell-swap margin comes from") no margin
 * raised the number of vanilla-RNN cases within 1.5x of the GRU fix, so the rule is off by default.
 */
final class TrialChoice {

    /** How much lower than its first step's loss the model as it is must end its trial to count as learning. */
    static final double STUCK_PROGRESS = 0.01;

    private final List<Trial> trials;
    private final List<Integer> ranked;
    private final int chosenIndex;
    private final boolean calledFor;
    private final boolean stuck;
    private final boolean swapped;
    private final double margin;
    private final double changeMargin;

    private TrialChoice(List<Trial> trials, List<Integer> ranked, int chosenIndex, boolean calledFor, boolean stuck,
            boolean swapped, double margin, double changeMargin) {
        this.trials = trials;
        this.ranked = ranked;
        this.chosenIndex = chosenIndex;
        this.calledFor = calledFor;
        this.stuck = stuck;
        this.swapped = swapped;
        this.margin = margin;
        this.changeMargin = changeMargin;
    }

    /**
     * @param trials the trials, in the order run; the first is the model as it is
     * @param recipes each trial's fixes, in the same order
     * @param before the flow check of the model as it is
     * @param learningRate your learning rate (a trial at another rate counts one change)
     * @param margin how close to the best trial's loss, relative to it, a simpler trial must end
     * @param changeMargin how much better than the model as it is the best trial must end before any change
     * @param stuckMargin how much better than a stuck model as it is its best re-initialization must end to be
     *     prescribed without the change margin (see the class comment); NaN turns the rule off
     * @param cellSwapMargin how much better than the model as it is a cell-swap trial must end to be prescribed
     *     without a flow finding (see the class comment); NaN turns the rule off
     * @return the ranking and the choice
     */
    static TrialChoice of(List<Trial> trials, List<List<StructureFix>> recipes, FlowReport before, double learningRate,
            double margin, double changeMargin, double stuckMargin, double cellSwapMargin) {
        List<Integer> ranked = new ArrayList<>();
        for (int i = 0; i < trials.size(); i++) {
            ranked.add(i);
        }
        ranked.sort(Comparator.comparing(trials::get, Trial::compare));
        Trial first = trials.get(ranked.get(0));
        Trial plain = trials.get(0);
        // the simplest recipe within the margin of the best wins: fewest changes (each fix, a new rate), then loss
        int chosenIndex = ranked.get(0);
        // a change must be called for: the model as it is diverged in its trial, or the flow check found something
        // out of range; a healthy model that trains is left alone however its short trial ranks (a short trial
        // favours whatever learns fastest at first, which is not what ends best)
        boolean calledFor = !plain.finite() || !before.healthy();
        // and it must earn its place: the model as it is ends no better than the best trial by more than
        // changeMargin (short trials are noisy; a modest lead is not worth a change to the model)
        boolean earned = !plain.finite() || !first.finite() || plain.finalLoss() > first.finalLoss() * (1 + changeMargin);
        if (!calledFor || !earned) {
            chosenIndex = 0;
        } else if (first.finite()) {
            double bound = first.finalLoss() + margin * Math.abs(first.finalLoss());
            for (int i : ranked) {
                Trial t = trials.get(i);
                Trial c = trials.get(chosenIndex);
                if (t.finite() && t.finalLoss() <= bound && changes(t, learningRate) < changes(c, learningRate)) {
                    chosenIndex = i;
                }
            }
        }
        int reinit = !Double.isNaN(stuckMargin) && chosenIndex == 0
                ? stuckReinit(trials, recipes, ranked, before, learningRate, stuckMargin) : -1;
        int swap = chosenIndex == 0 && reinit < 0 && !Double.isNaN(cellSwapMargin)
                ? cellSwap(trials, recipes, ranked, learningRate, cellSwapMargin) : -1;
        int chosen = reinit >= 0 ? reinit : swap >= 0 ? swap : chosenIndex;
        return new TrialChoice(trials, ranked, chosen, calledFor, reinit >= 0, swap >= 0, margin, changeMargin);
    }

    /**
     * @return the best cell-swap trial at your rate (the swap alone or with re-initializations, no warm-up) that ends
     *     below the model as it is divided by {@code 1 + cellSwapMargin}, or -1 when the model as it is diverged or no
     *     such trial exists
     */
    private static int cellSwap(List<Trial> trials, List<List<StructureFix>> recipes, List<Integer> ranked,
            double learningRate, double cellSwapMargin) {
        Trial plain = trials.get(0);
        if (!plain.finite()) {
            return -1;
        }
        int i = bestAtYourRate(trials, recipes, ranked, learningRate,
                fixes -> fixes.stream().anyMatch(StructureFix::swapsCell)
                        && fixes.stream().allMatch(f -> f.swapsCell() || f.reinitializes()));
        return i >= 0 && plain.finalLoss() > trials.get(i).finalLoss() * (1 + cellSwapMargin) ? i : -1;
    }

    /**
     * @return the best-ranked finite trial at your rate, without warm-up, whose fixes satisfy {@code recipe}; -1 when
     *     there is none
     */
    private static int bestAtYourRate(List<Trial> trials, List<List<StructureFix>> recipes, List<Integer> ranked,
            double learningRate, Predicate<List<StructureFix>> recipe) {
        for (int i : ranked) {
            Trial t = trials.get(i);
            if (t.finite() && t.learningRate() == learningRate && t.warmUpSteps() == 0 && recipe.test(recipes.get(i))) {
                return i;
            }
        }
        return -1;
    }

    /**
     * @return the best re-initialization trial at your rate that ends below a stuck model as it is divided by {@code 1 +
     *     stuckMargin}, or -1 when the model is not stuck (activations or backward signal in range, or it learned in its
     *     trial) or no such trial exists
     */
    private static int stuckReinit(List<Trial> trials, List<List<StructureFix>> recipes, List<Integer> ranked,
            FlowReport before, double learningRate, double stuckMargin) {
        Trial plain = trials.get(0);
        // both ways: on the tuning split's further healthy twins, a backward signal shrinking alone (a conv net whose
        // activations were in range) got He initialization and ended 2.06x worse when followed
        boolean bothWays = before.has(FlowReport.Kind.ACTIVATIONS_GROW, FlowReport.Kind.ACTIVATIONS_SHRINK)
                && before.has(FlowReport.Kind.GRADIENTS_GROW, FlowReport.Kind.GRADIENTS_SHRINK);
        if (!plain.finite() || !bothWays || plain.losses().isEmpty()) {
            return -1;
        }
        double first = plain.losses().get(0);
        if (plain.finalLoss() < first - STUCK_PROGRESS * Math.abs(first)) {
            return -1;
        }
        int i = bestAtYourRate(trials, recipes, ranked, learningRate,
                fixes -> !fixes.isEmpty() && fixes.stream().allMatch(StructureFix::reinitializes));
        return i >= 0 && plain.finalLoss() > trials.get(i).finalLoss() * (1 + stuckMargin) ? i : -1;
    }

    /** @return true when the chosen trial is a re-initialization of a stuck model (see the class comment) */
    boolean stuck() {
        return stuck;
    }

    /** @return true when the chosen trial swaps a vanilla recurrent cell by its own margin (see the class comment) */
    boolean swapped() {
        return swapped;
    }

    /**
     * @return why a change the margin did not earn is prescribed, for the prescription; null unless the chosen trial
     *     re-initializes a stuck model or swaps a vanilla recurrent cell by its own margin
     */
    String changeWhy() {
        Trial plain = trials.get(0);
        if (swapped) {
            return String.format(Locale.ROOT, "a vanilla recurrent cell cannot learn to keep its gradient through time"
                    + " and a gated one can (the flow check cannot tell them apart at initialization); the swap ended its"
                    + " trial at %.4g, the model as it is at %.4g", chosen().finalLoss(), plain.finalLoss());
        }
        if (!stuck) {
            return null;
        }
        return String.format(Locale.ROOT, "the model as it is did not learn in its trial (loss %.4g at the first step, %.4g"
                + " after) and the flow check finds its activations and backward signal out of range with depth; the"
                + " re-initialization ended at %.4g", plain.losses().get(0), plain.finalLoss(), chosen().finalLoss());
    }

    private static int changes(Trial t, double learningRate) {
        return t.fixes().size() + (t.learningRate() == learningRate ? 0 : 1) + (t.warmUpSteps() > 0 ? 1 : 0);
    }

    /** @return the trials, best first */
    List<Trial> ranked() {
        return ranked.stream().map(trials::get).toList();
    }

    /** @return the chosen trial's index, in the order run (0: the model as it is) */
    int chosenIndex() {
        return chosenIndex;
    }

    /** @return the chosen trial */
    Trial chosen() {
        return trials.get(chosenIndex);
    }

    /** @return true when no trial trained at all: each diverged, or could not learn */
    boolean nothingTrained() {
        return !trials.get(ranked.get(0)).finite();
    }

    /** @return true when the model as it is was chosen and some trial trained ("no change needed") */
    boolean noChange() {
        return chosenIndex == 0 && !nothingTrained();
    }

    /** @return why no change is needed, for the prescription; null when a change is prescribed */
    String why() {
        if (!noChange()) {
            return null;
        }
        Trial plain = trials.get(0);
        Trial first = trials.get(ranked.get(0));
        return !calledFor
                ? String.format(Locale.ROOT, "the flow check found nothing out of range and the model as it is trained"
                        + " (%.4g; best trial %s, %.4g)", plain.finalLoss(), first.name(), first.finalLoss())
                : String.format(Locale.ROOT, "the model as it is ended at %.4g, no more than %.3gx the best trial (%s,"
                        + " %.4g)", plain.finalLoss(), 1 + Math.max(changeMargin, margin), first.name(),
                        first.finalLoss());
    }
}
