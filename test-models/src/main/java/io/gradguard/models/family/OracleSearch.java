package io.gradguard.models.family;

import ai.djl.training.Trainer;
import io.gradguard.models.ScenarioRun;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Finds a set-up's oracle learning rate: the best point of an unguarded grid in factors of 2 around its
 * nominal rate, each point trained with the full budget. The walk starts at the nominal rate, goes towards
 * the better neighbour and stops when the best point has a worse (or diverged) point on both sides.
 */
public final class OracleSearch {

    /** Grid exponents searched: nominal x 2^k for k in [MIN_EXP, MAX_EXP]. */
    public static final int MIN_EXP = -10;
    /** See {@link #MIN_EXP}. */
    public static final int MAX_EXP = 8;

    /**
     * The search's outcome.
     *
     * @param lr the oracle learning rate
     * @param loss its final evaluation loss
     * @param grid every learning rate tried, with its final evaluation loss (NaN: diverged)
     */
    public record Result(float lr, float loss, Map<Float, Float> grid) {

        /** @return the grid as {@code lr:loss} pairs, for a CSV cell */
        public String gridText() {
            StringBuilder sb = new StringBuilder();
            grid.forEach((k, v) -> sb.append(sb.length() > 0 ? " " : "").append(String.format(Locale.ROOT, "%.3g:%.4g", k, v)));
            return sb.toString();
        }
    }

    private OracleSearch() {}

    /**
     * Trains one unguarded run.
     *
     * @param g the set-up
     * @param lr the learning rate
     * @return the final evaluation loss (NaN or infinite when it diverged)
     */
    public static float train(GeneratedScenario g, float lr) {
        try (ScenarioRun run = g.open(lr); Trainer t = run.newTrainer()) {
            run.trainByHand(t, (tr, l) -> tr.step());
            return run.evalLoss(t);
        }
    }

    /**
     * Runs the search.
     *
     * @param g the set-up
     * @return the oracle
     */
    public static Result search(GeneratedScenario g) {
        return search(g.nominalLr(), lr -> train(g, lr));
    }

    /**
     * The walk on the grid {@code nominal x 2^k}, for any engine: start at the nominal rate, move to the
     * better neighbour, stop when the best point has a worse (or diverged) point on both sides.
     *
     * @param nominal the rate the grid is centred on
     * @param train trains one unguarded run at a rate and returns its final loss (NaN when it diverged)
     * @return the oracle
     */
    public static Result search(float nominal, java.util.function.Function<Float, Float> train) {
        TreeMap<Integer, Float> byExp = new TreeMap<>();
        java.util.function.IntFunction<Double> at = k -> {
            Float v = byExp.computeIfAbsent(k, e -> train.apply(lr(nominal, e)));
            return Float.isFinite(v) ? v : Double.POSITIVE_INFINITY;
        };
        int best = 0;
        at.apply(0);
        while (true) {
            double here = at.apply(best);
            double up = best < MAX_EXP ? at.apply(best + 1) : Double.POSITIVE_INFINITY;
            double down = best > MIN_EXP ? at.apply(best - 1) : Double.POSITIVE_INFINITY;
            if (up < here && up <= down) {
                best++;
            } else if (down < here) {
                best--;
            } else {
                break;
            }
        }
        Map<Float, Float> grid = new TreeMap<>();
        byExp.forEach((k, v) -> grid.put(lr(nominal, k), v));
        return new Result(lr(nominal, best), byExp.get(best), Collections.unmodifiableMap(grid));
    }

    private static float lr(float nominal, int exp) {
        return (float) (nominal * Math.pow(2, exp));
    }
}
