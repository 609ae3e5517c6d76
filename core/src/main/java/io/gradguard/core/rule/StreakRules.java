package io.gradguard.core.rule;

import io.gradguard.core.Action;
import io.gradguard.core.event.EventKind;

/** The ladder's streak rules: a condition that persists for some steps in a row. */
public final class StreakRules {

    private StreakRules() {}

    /**
     * Parameters corrupted between two steps (something outside the optimizer wrote NaN or infinity into the
     * weights): skipping cannot heal them, so roll back at once, and without cutting the learning rate, which is
     * not to blame. A second rollback before healthy progress is left to the other rules, which cut as usual.
     *
     * @return the rule
     */
    public static TroubleRule corruptedWeights() {
        return new TroubleRule() {
            @Override
            public String name() {
                return "corrupted_weights";
            }

            @Override
            public Trouble check(StepView v) {
                return v.weightsCorrupted() ? new Trouble(name(), null, "the parameters became non-finite between two"
                        + " steps although the update before was a healthy one: they were corrupted from outside the"
                        + " optimizer, not by the learning rate", true, false) : null;
            }
        };
    }

    /**
     * {@code max} non-finite steps in a row (each one skipped): the parameters or the optimizer state are
     * poisoned. Without a snapshot the run halts one step later.
     *
     * @param max the streak length
     * @return the rule
     */
    public static TroubleRule nonFinite(int max) {
        return new Counting("nonfinite_streak", max) {
            @Override
            Boolean counts(StepView v) {
                return !v.finite();
            }

            @Override
            Trouble trouble(int n) {
                return new Trouble(name(), null, n + " consecutive non-finite steps", n > max);
            }
        };
    }

    /**
     * An outlier batch after {@code max} skipped ones: the outliers are the run, not the data.
     *
     * @param max outlier batches skipped in a row before this rule fires
     * @return the rule
     */
    public static TroubleRule outliers(int max) {
        return new TroubleRule() {
            @Override
            public String name() {
                return "outlier_streak";
            }

            @Override
            public Trouble check(StepView v) {
                return v.finite() && v.outlier() && v.skipsInARow() >= max
                        ? new Trouble(name(), null, v.skipsInARow() + 1 + " outlier batches in a row", false) : null;
            }
        };
    }

    /**
     * {@code patience} loss spikes in a row.
     *
     * @param patience the streak length
     * @return the rule
     */
    public static TroubleRule lossSpikes(int patience) {
        return new Counting("loss_spike_streak", patience) {
            @Override
            Boolean counts(StepView v) {
                // a non-finite step neither extends nor breaks a run of loss spikes
                return v.finite() ? v.lossSpike() : null;
            }

            @Override
            boolean mayFire(StepView v) {
                // an outlier batch is skipped; the outlier rule decides about a run of them
                return v.action() != Action.SKIP;
            }

            @Override
            Trouble trouble(int n) {
                return new Trouble(name(), null, n + " loss spikes in a row", false);
            }
        };
    }

    /**
     * {@code steps} clipped spikes in a row: clipping does not stop the norm from growing.
     *
     * @param steps the streak length
     * @return the rule
     */
    public static TroubleRule growth(int steps) {
        return new Counting("growth", steps) {
            @Override
            Boolean counts(StepView v) {
                // a skipped outlier batch neither extends nor breaks the run; a non-finite step breaks it
                return !v.finite() ? Boolean.FALSE : v.action() == Action.SKIP ? null : v.clippedSpike();
            }

            @Override
            Trouble trouble(int n) {
                reset();
                return new Trouble(name(), EventKind.GROWTH, n + " consecutive spikes clipped: the gradient norm keeps"
                        + " growing", false);
            }
        };
    }

    /** A rule that counts steps in a row that meet a condition and fires from {@code max} on. */
    abstract static class Counting implements TroubleRule {
        private final String name;
        final int max;
        private int count;

        Counting(String name, int max) {
            this.name = name;
            this.max = max;
        }

        @Override
        public String name() {
            return name;
        }

        /** @return true: the step extends the run; false: it breaks it; null: it leaves it as it is */
        abstract Boolean counts(StepView v);

        abstract Trouble trouble(int n);

        /** @return whether the rule may report trouble on this step (it counts every step either way) */
        boolean mayFire(StepView v) {
            return true;
        }

        void reset() {
            count = 0;
        }

        @Override
        public Trouble check(StepView v) {
            Boolean c = counts(v);
            if (c == null) {
                return null;
            }
            count = c ? count + 1 : 0;
            return c && count >= max && mayFire(v) ? trouble(count) : null;
        }

        @Override
        public void rolledBack() {
            count = 0;
        }
    }
}
