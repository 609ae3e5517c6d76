package io.gradguard.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterServer;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.translate.TranslateException;
import io.gradguard.core.diagnose.LrRange;
import io.gradguard.djl.internal.GatedParameterServer;
import io.gradguard.djl.internal.GradientInspector;
import io.gradguard.djl.internal.OptimizerAccess;
import io.gradguard.djl.internal.TrainerAccess;
import io.gradguard.djl.internal.TrainingSnapshot;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learning-rate range test (Smith 2017, "Cyclical Learning Rates"; fast.ai's {@code lr_find}): trains a
 * few dozen steps on the user's own model and data while the learning rate grows exponentially from
 * {@code minLr} to {@code maxLr}, records the (smoothed) loss, stops once it diverges, and puts the
 * parameters, the optimizer state (moments, update counts) and the learning-rate schedule back exactly
 * as they were, so training can start right after.
 *
 * <pre>{@code
 * LrFinder.Result r = LrFinder.builder().build().run(trainer, trainingSet);
 * System.out.println(r);               // diverged at ..., suggested ...
 * float lr = r.suggestedLr();
 * }</pre>
 *
 * <p>The suggestion is the learning rate of the lowest smoothed loss divided by 10 (fast.ai's rule of
 * thumb: an order of magnitude below where the loss stops falling); the steepest descent point is
 * reported too. Guards attached to the trainer stand aside during the sweep.
 */
public final class LrFinder {

    private static final Logger LOG = LoggerFactory.getLogger("io.gradguard");
    private static final ThreadLocal<Boolean> RUNNING = ThreadLocal.withInitial(() -> false);

    private final double minLr;
    private final double maxLr;
    private final int steps;
    private final double divergeFactor;
    private final double smoothing;

    private LrFinder(Builder b) {
        this.minLr = b.minLr;
        this.maxLr = b.maxLr;
        this.steps = b.steps;
        this.divergeFactor = b.divergeFactor;
        this.smoothing = b.smoothing;
    }

    /** @return a builder with the defaults: 1e-6 to 10, 100 steps, divergence at 4x the best loss */
    public static Builder builder() {
        return new Builder();
    }

    /** @return true while a sweep runs on this thread (guards stand aside) */
    public static boolean running() {
        return RUNNING.get();
    }

    /**
     * Runs the sweep on the trainer's model with batches from the dataset (cycled if it has fewer batches
     * than steps), then restores the model, the optimizer state and the learning-rate trackers.
     *
     * @param trainer an initialized trainer
     * @param dataset the training data
     * @return the recorded curve, the divergence point and the suggestion
     * @throws IllegalStateException when the trainer's optimizer cannot be reached or has no
     *     learning-rate tracker
     */
    public Result run(Trainer trainer, Dataset dataset) {
        Optimizer optimizer = OptimizerAccess.optimizer(trainer);
        if (optimizer == null) {
            throw new IllegalStateException("LrFinder: cannot reach the trainer's optimizer (its state could not be"
                    + " restored after the sweep)");
        }
        double[] lr = {minLr};
        Runnable restoreTrackers = OptimizerAccess.overrideLearningRate(optimizer, () -> lr[0]);
        if (restoreTrackers == null) {
            throw new IllegalStateException("LrFinder: optimizer " + optimizer.getClass().getName()
                    + " has no learning-rate tracker field to sweep");
        }
        GatedParameterServer gate = gate(trainer);
        double armed = gate == null ? 1.0 : gate.armed();
        List<Double> lrs = new ArrayList<>();
        List<Double> raw = new ArrayList<>();
        List<Double> smooth = new ArrayList<>();
        double divergedAt = Double.NaN;
        RUNNING.set(true);
        try (TrainingSnapshot snapshot = new TrainingSnapshot(new GradientInspector(trainer), optimizer, false)) {
            snapshot.take(0);
            try {
                Iterator<Batch> batches = batches(trainer, dataset);
                double avg = 0;
                double best = Double.POSITIVE_INFINITY;
                for (int i = 0; i < steps; i++) {
                    lr[0] = minLr * Math.pow(maxLr / minLr, i / (double) (steps - 1));
                    if (!batches.hasNext()) {
                        batches = batches(trainer, dataset);
                    }
                    double loss;
                    try (Batch batch = batches.next()) {
                        loss = step(trainer, batch, gate);
                    }
                    avg = smoothing * avg + (1 - smoothing) * loss;
                    double s = avg / (1 - Math.pow(smoothing, i + 1));
                    lrs.add(lr[0]);
                    raw.add(loss);
                    smooth.add(s);
                    if ((i + 1) % 25 == 0) {
                        LOG.info(String.format(Locale.ROOT, "LR range test: step %d/%d, lr %.3g, smoothed loss %.4g",
                                i + 1, steps, lr[0], s));
                    }
                    // the first steps' losses swing from batch to batch; only a non-finite loss counts there
                    if (!Double.isFinite(s) || i >= Math.max(5, steps / 10) && s > divergeFactor * best) {
                        divergedAt = lr[0];
                        break;
                    }
                    best = Math.min(best, s);
                }
            } finally {
                snapshot.restore();
            }
        } finally {
            RUNNING.set(false);
            restoreTrackers.run();
            if (gate != null) {
                gate.arm(armed);
            }
        }
        return Result.of(lrs, raw, smooth, divergedAt, minLr, maxLr);
    }

    private static GatedParameterServer gate(Trainer trainer) {
        ParameterStore store = TrainerAccess.parameterStore(trainer);
        ParameterServer server = store == null ? null : TrainerAccess.parameterServer(store);
        return server instanceof GatedParameterServer g ? g : null;
    }

    private static Iterator<Batch> batches(Trainer trainer, Dataset dataset) {
        try {
            return trainer.iterateDataset(dataset).iterator();
        } catch (IOException | TranslateException e) {
            throw new IllegalStateException("LrFinder: cannot read the dataset: " + e, e);
        }
    }

    private static double step(Trainer trainer, Batch batch, GatedParameterServer gate) {
        NDArray loss;
        try (GradientCollector gc = trainer.newGradientCollector()) {
            NDList pred = trainer.forward(batch.getData(), batch.getLabels());
            loss = trainer.getLoss().evaluate(batch.getLabels(), pred);
            gc.backward(loss);
        }
        double value;
        try (NDArray mean = loss.mean()) {
            value = mean.getFloat();
        }
        loss.close();
        if (gate != null) {
            gate.arm(1.0);
        }
        trainer.step();
        return value;
    }

    /**
     * The sweep's outcome.
     *
     * @param learningRates the learning rate of each step
     * @param losses the batch loss of each step
     * @param smoothedLosses the bias-corrected exponential moving average of the loss
     * @param divergenceLr the learning rate at which the smoothed loss passed the divergence factor times
     *     its best (or went non-finite); NaN when it never did
     * @param minLossLr the learning rate of the lowest smoothed loss
     * @param steepestLr the learning rate where the smoothed loss fell fastest per decade of learning rate
     * @param suggestedLr {@code minLossLr / 10}
     * @param minLr the sweep's start
     * @param maxLr the sweep's end
     */
    public record Result(List<Double> learningRates, List<Double> losses, List<Double> smoothedLosses,
            double divergenceLr, double minLossLr, double steepestLr, double suggestedLr, double minLr, double maxLr) {

        static Result of(List<Double> lrs, List<Double> raw, List<Double> smooth, double divergedAt, double minLr,
                double maxLr) {
            int best = 0;
            for (int i = 1; i < smooth.size(); i++) {
                if (smooth.get(i) < smooth.get(best)) {
                    best = i;
                }
            }
            int steepest = 0;
            double slope = Double.POSITIVE_INFINITY;
            // the first steps are noise (the average has seen few batches); look between them and the minimum
            for (int i = Math.max(1, Math.min(best, smooth.size() / 10)); i <= best && i < smooth.size(); i++) {
                double d = (smooth.get(i) - smooth.get(i - 1)) / Math.log10(lrs.get(i) / lrs.get(i - 1));
                if (d < slope) {
                    slope = d;
                    steepest = i;
                }
            }
            double minLossLr = smooth.isEmpty() ? Double.NaN : lrs.get(best);
            return new Result(List.copyOf(lrs), List.copyOf(raw), List.copyOf(smooth), divergedAt, minLossLr,
                    smooth.isEmpty() ? Double.NaN : lrs.get(steepest), minLossLr / 10, minLr, maxLr);
        }

        /** @return the outcome in the form the diagnosis takes ({@code Diagnoser.withLrRange}) */
        public LrRange toLrRange() {
            return new LrRange(divergenceLr, suggestedLr, minLr, maxLr);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "LR range test over %d steps (%.3g to %.3g): lowest loss at %.3g, steepest"
                    + " descent at %.3g, %s; suggested learning rate %.3g", learningRates.size(), minLr, maxLr, minLossLr,
                    steepestLr, Double.isNaN(divergenceLr) ? "no divergence" : String.format(Locale.ROOT,
                            "diverged at %.3g", divergenceLr), suggestedLr);
        }
    }

    /** Builds an {@link LrFinder}; every value is checked when set. */
    public static final class Builder {
        private double minLr = 1e-6;
        private double maxLr = 10;
        private int steps = 100;
        private double divergeFactor = 4;
        private double smoothing = 0.98;

        private Builder() {}

        /**
         * @param v the first learning rate, in (0, maxLr)
         * @return this
         */
        public Builder minLr(double v) {
            if (!(v > 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException("LrFinder.builder().minLr: " + v + " is not a positive finite number");
            }
            minLr = v;
            return this;
        }

        /**
         * @param v the last learning rate, above minLr
         * @return this
         */
        public Builder maxLr(double v) {
            if (!(v > 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException("LrFinder.builder().maxLr: " + v + " is not a positive finite number");
            }
            maxLr = v;
            return this;
        }

        /**
         * @param v number of steps, 10 to 100000
         * @return this
         */
        public Builder steps(int v) {
            if (v < 10 || v > 100_000) {
                throw new IllegalArgumentException("LrFinder.builder().steps: " + v + " is outside [10, 100000]");
            }
            steps = v;
            return this;
        }

        /**
         * @param v the sweep stops when the smoothed loss exceeds this many times its best, in (1, 1000]
         * @return this
         */
        public Builder divergeFactor(double v) {
            if (!(v > 1) || v > 1000) {
                throw new IllegalArgumentException("LrFinder.builder().divergeFactor: " + v + " is outside (1, 1000]");
            }
            divergeFactor = v;
            return this;
        }

        /**
         * @param v the loss smoothing factor (exponential moving average), in [0, 1)
         * @return this
         */
        public Builder smoothing(double v) {
            if (!(v >= 0) || v >= 1) {
                throw new IllegalArgumentException("LrFinder.builder().smoothing: " + v + " is outside [0, 1)");
            }
            smoothing = v;
            return this;
        }

        /**
         * @return the finder
         * @throws IllegalArgumentException when minLr is not below maxLr
         */
        public LrFinder build() {
            if (!(minLr < maxLr)) {
                throw new IllegalArgumentException("LrFinder.builder(): minLr " + minLr + " must be below maxLr " + maxLr);
            }
            return new LrFinder(this);
        }
    }
}
