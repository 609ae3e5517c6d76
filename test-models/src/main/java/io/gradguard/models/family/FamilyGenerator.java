package io.gradguard.models.family;

import io.gradguard.models.family.Setup.Act;
import io.gradguard.models.family.Setup.Arch;
import io.gradguard.models.family.Setup.Init;
import io.gradguard.models.family.Setup.Opt;
import io.gradguard.models.family.Setup.Schedule;
import io.gradguard.models.family.Setup.Task;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Draws whole DJL training set-ups from a seed: architecture, activation, initialization, optimizer,
 * batch size, schedule, task, length, and the exploding twin's learning-rate multiplier.
 *
 * <p>The seeds come in two disjoint ranges ({@link Split}). Defaults and thresholds may be chosen on the
 * tuning split; the held-out split is measured only, never tuned on.
 */
public final class FamilyGenerator {

    /** The smallest learning-rate multiplier of an exploding twin. */
    public static final double MIN_MULTIPLIER = 2.0;
    /** The largest learning-rate multiplier of an exploding twin. */
    public static final double MAX_MULTIPLIER = 100.0;

    /** The two disjoint seed ranges. */
    public enum Split {
        /** Seeds 1000 to 1999: defaults and thresholds may be chosen on these. */
        TUNING(1000),
        /** Seeds 9000 to 9999: measured only, never tuned on. */
        HELD_OUT(9000);

        /** Seeds per split. */
        public static final int SIZE = 1000;

        private final long first;

        Split(long first) {
            this.first = first;
        }

        /** @return the first seed of the range */
        public long firstSeed() {
            return first;
        }

        /**
         * @param seed a seed
         * @return the split the seed belongs to, or null when it is in neither
         */
        public static Split of(long seed) {
            for (Split s : values()) {
                if (seed >= s.first && seed < s.first + SIZE) {
                    return s;
                }
            }
            return null;
        }

        /**
         * The first {@code n} seeds of this split, in order.
         *
         * @param n how many, at most {@link #SIZE}
         * @return the seeds
         */
        public List<Long> seeds(int n) {
            if (n < 0 || n > SIZE) {
                throw new IllegalArgumentException("a split has " + SIZE + " seeds; asked for " + n);
            }
            List<Long> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(first + i);
            }
            return out;
        }
    }

    private FamilyGenerator() {}

    /**
     * Draws the set-up of one seed. The same seed always gives the same set-up.
     *
     * @param seed the seed
     * @return the set-up
     */
    public static Setup draw(long seed) {
        Random r = new Random(seed * 0x9E3779B97F4A7C15L + 17);
        Arch arch = pick(r, new Arch[] {Arch.MLP, Arch.MLP, Arch.MLP, Arch.CONV, Arch.CONV, Arch.RESIDUAL_MLP,
            Arch.RESIDUAL_MLP, Arch.RNN, Arch.GRU, Arch.LSTM, Arch.ATTENTION, Arch.ATTENTION});
        Act act = pick(r, Act.values());
        Init init = pick(r, Init.values());
        Opt opt = pick(r, new Opt[] {Opt.SGD, Opt.MOMENTUM, Opt.ADAM, Opt.ADAMW});
        int batch = pick(r, new Integer[] {16, 32, 64});
        Schedule schedule = r.nextBoolean() ? Schedule.FIXED : Schedule.WARMUP_COSINE;
        // 150 to 1000 steps, log-uniform, in fifties
        int steps = (int) Math.round(Math.exp(Math.log(150) + r.nextDouble() * Math.log(1000.0 / 150)) / 50) * 50;
        double multiplier = Math.exp(Math.log(MIN_MULTIPLIER) + r.nextDouble() * Math.log(MAX_MULTIPLIER / MIN_MULTIPLIER));
        int depth;
        int width;
        boolean normalized = false;
        Task task;
        int outputs;
        int features;
        int length = 0;
        switch (arch) {
            case MLP -> {
                depth = 2 + r.nextInt(15);
                width = pick(r, new Integer[] {16, 32, 64});
                task = r.nextBoolean() ? Task.REGRESSION : Task.CLASSIFICATION;
                features = pick(r, new Integer[] {8, 16, 32});
            }
            case CONV -> {
                depth = 2 + r.nextInt(5);
                width = pick(r, new Integer[] {4, 8});
                task = Task.CLASSIFICATION;
                features = 1 + r.nextInt(2);
                length = 8;
                act = act == Act.TANH ? Act.RELU : act;
            }
            case RESIDUAL_MLP -> {
                depth = 2 + r.nextInt(7);
                width = pick(r, new Integer[] {16, 32, 64});
                normalized = r.nextBoolean();
                task = r.nextBoolean() ? Task.REGRESSION : Task.CLASSIFICATION;
                features = pick(r, new Integer[] {8, 16, 32});
            }
            case RNN, GRU, LSTM -> {
                depth = r.nextInt(4) == 0 ? 2 : 1;
                width = pick(r, new Integer[] {16, 32, 48});
                task = r.nextBoolean() ? Task.SEQUENCE_REGRESSION : Task.SEQUENCE_CLASSIFICATION;
                length = 6 + r.nextInt(11);
                features = 2 + r.nextInt(3);
            }
            case ATTENTION -> {
                depth = r.nextInt(3) == 0 ? 2 : 1;
                width = pick(r, new Integer[] {16, 32});
                normalized = r.nextBoolean();
                task = r.nextBoolean() ? Task.SEQUENCE_REGRESSION : Task.SEQUENCE_CLASSIFICATION;
                length = 6 + r.nextInt(7);
                features = 2 + r.nextInt(3);
            }
            default -> throw new IllegalStateException(arch.name());
        }
        outputs = task.classification() ? 3 + r.nextInt(6) : (task == Task.REGRESSION ? 1 + r.nextInt(3) : 1);
        return new Setup(seed, arch, depth, width, act, init, normalized, opt, batch, schedule, task, outputs,
                features, length, steps, multiplier);
    }

    private static <T> T pick(Random r, T[] options) {
        return options[r.nextInt(options.length)];
    }
}
