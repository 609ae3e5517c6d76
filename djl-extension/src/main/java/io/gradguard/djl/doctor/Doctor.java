package io.gradguard.djl.doctor;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.TrainingConfig;
import ai.djl.training.dataset.Dataset;
import io.gradguard.djl.LrFinder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.DoubleFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one-call repair of a model's structure: measures the gradient flow at initialization ({@link FlowCheck}), runs
 * the learning-rate range test ({@link LrFinder}), then short trials from the same seed on the same batches: the model
 * as it is, the suggested learning rate, a linear learning-rate warm-up at your rate (when the first update is too
 * large a part of a weight or the optimizer is Adam-like; see {@link Builder#warmUpFraction}), each applicable
 * {@link StructureFix}, and the best pairs (the best fix at the suggested rate, the two best fixes together). It
 * ranks the trials by the loss on held-back batches after the trial (lower is better; diverged last) and prescribes,
 * as code-level lines, the simplest trial that ends within {@link Builder#margin} of the best (fewest changes: each
 * fix counts one, a new learning rate one, a warm-up one; ties go to the lower loss), so "no change needed" when the
 * model as it is ends within the margin. When it prescribes a lower rate whose first update the flow check still finds
 * too large a part of a weight, it prescribes the warm-up to that rate as well (no trial of its own: it only lowers
 * the first updates, and the flow check after it shows them in range).
 *
 * <pre>{@code
 * DoctorResult r = Doctor.builder()
 *         .model(() -> buildMyBlock())                     // a fresh, uninitialized block each call
 *         .config(lr -> new DefaultTrainingConfig(loss).optOptimizer(
 *                 Optimizer.sgd().setLearningRateTracker(Tracker.fixed((float) lr)).optMomentum(0.9f).build()))
 *         .learningRate(0.005).data(trainingSet).inputShape(new Shape(32, 16)).plannedSteps(3000)
 *         .record(Path.of("doctor.json"))
 *         .build().run();
 * r.prescription().forEach(System.out::println);
 * Block fixed = r.fixedBlock(model.getNDManager());   // initialized, fixes applied
 * }</pre>
 *
 * <p>Cost: {@link DoctorResult#trialSteps()} training steps in all (trials x steps per trial), by default at most 10%
 * of the planned steps, plus the range test's steps ({@link Builder#lrFinderSteps}, 50 by default) and two flow-check
 * passes (one on the model as it is, one on the chosen fix).
 *
 * <p>This class holds the settings and runs the steps in order; {@link TrialRunner} runs the trials,
 * {@link TrialChoice} ranks them and picks the one to prescribe, and {@code Prescription} writes its lines.
 */
public final class Doctor {

    private static final Logger LOG = LoggerFactory.getLogger("io.gradguard");

    private final Builder b;

    private Doctor(Builder b) {
        this.b = b;
    }

    /**
     * Default {@link Builder#changeMargin}: a change to a model that trains must end its trial below a third of the loss
     * of the model as it is. Chosen on the generated family's tuning split (RESULTS.md, "Structure doctor: where the
     * change margin comes from"): from 2 to 4 every change that helped a healthy model when followed is kept, the ones
     * that did not are dropped, and the structural cases and zoo rows keep their verdicts; 0.5 (the earlier default)
     * also changed two healthy models that gained nothing (1.04x) or lost (2.05x).
     */
    public static final double DEFAULT_CHANGE_MARGIN = 2.0;

    /**
     * Default {@link Builder#cellSwapMargin}, for when the cell-swap rule is turned on ({@link Builder#cellSwap}; off by
     * default): a vanilla recurrent cell is swapped for a gated one when the swap's trial ends below the model as it is
     * divided by {@code 1 + DEFAULT_CELL_SWAP_MARGIN}. On the generated family's tuning split (RESULTS.md, "where the
     * cell-swap margin comes from") this is the lowest margin whose added changes to healthy models all helped when
     * followed; no margin raised the number of vanilla-RNN structural cases within 1.5x of the GRU fix (a short trial's
     * lead does not tell whether the swap wins at full length), which is why the rule is off by default.
     */
    public static final double DEFAULT_CELL_SWAP_MARGIN = 1.0;

    /**
     * Default {@link Builder#stuckMargin}: a stuck model's best re-initialization is prescribed when the model as it is
     * ends its trial more than 5% above it. Chosen on the generated family's tuning split (RESULTS.md, "where the stuck
     * margin comes from"): the largest of 0, 0.02, 0.05, 0.1 and 0.2 that keeps every structural case the rule fixes
     * (the two it gains led their trials by 6.4% and 23%), and it leaves alone the three healthy twins it
     * re-initialized at 0 on leads of 0.4% to 2.4% (two of them gained when followed, but a lead that small does not
     * tell which way a full run goes, and a healthy model is to be left as it is).
     */
    public static final double DEFAULT_STUCK_MARGIN = 0.05;

    /** @return a builder; model, config, learning rate, data, input shape and planned steps are required */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Runs the check, the range test and the trials, and writes the record when a path was given.
     *
     * @return the trials, the choice and the prescription
     * @throws IllegalStateException when the record cannot be written or the data set cannot be read
     */
    public DoctorResult run() {
        long start = System.nanoTime();
        int budget = b.budgetSteps > 0 ? b.budgetSteps : Math.max(1, b.plannedSteps / 10);
        List<StructureFix> applicable = new ArrayList<>();
        FlowReport before;
        LrFinder.Result range = null;
        boolean warmUpReachable;
        // the first bench reads only a few batches: enough for the flow check and the applicability questions
        try (TrialBench probe = new TrialBench(b.model, b.config, b.data, b.inputShape, b.seed, 1, 0);
                TrialBench.Built asIs = probe.build(List.of(), b.learningRate)) {
            before = probe.flow(asIs, b.learningRate);
            Block block = asIs.model().getBlock();
            warmUpReachable = io.gradguard.djl.internal.OptimizerAccess.optimizer(asIs.trainer()) != null;
            for (StructureFix f : b.fixes) {
                if (f.appliesTo(block, before)) {
                    applicable.add(f);
                }
            }
            if (b.lrFinderSteps > 0) {
                try {
                    range = LrFinder.builder().steps(b.lrFinderSteps).build().run(asIs.trainer(), b.data);
                } catch (IllegalStateException e) {
                    // no rate can be read off a dead model
                    if (!TrialBench.deadModel(e)) {
                        throw e;
                    }
                    LOG.warn("Doctor: no learning-rate range test: every gradient of the model as it is is zero");
                }
            }
        }
        LOG.info("Doctor: flow at initialization\n{}", before.text());
        double suggested = range == null ? Double.NaN : range.suggestedLr();
        boolean warmUpTrial = warmUpReachable && warmUpCalledFor(before);
        TrialRunner runner = new TrialRunner(applicable, b.learningRate, suggested, warmUpTrial);
        int steps = Math.max(1, budget / runner.count());
        // the trial warms up over the same fraction of its steps as the prescription of the planned ones
        int trialWarmUp = Math.min(steps, Math.max(2, (int) Math.round(b.warmUpFraction * steps)));
        int plannedWarmUp = Math.max(1, (int) Math.round(b.warmUpFraction * b.plannedSteps));
        try (TrialBench bench = new TrialBench(b.model, b.config, b.data, b.inputShape, b.seed, steps, b.evalBatches)) {
            runner.run(bench, steps, trialWarmUp);
            TrialChoice choice = TrialChoice.of(runner.trials(), runner.recipes(), before, b.learningRate, b.margin,
                    b.changeMargin, b.stuckReinit ? b.stuckMargin : Double.NaN, b.cellSwap ? b.cellSwapMargin : Double.NaN);
            Trial chosen = choice.chosen();
            List<StructureFix> chosenFixes = runner.recipe(choice.chosenIndex());
            int warmUp = chosen.warmUpSteps() > 0 ? plannedWarmUp : 0;
            FlowReport after;
            try (TrialBench.Built fixed = bench.build(chosenFixes, chosen.learningRate())) {
                // with a warm-up, the first update is made at 1/N of the rate
                after = bench.flow(fixed, chosen.learningRate() / Math.max(1, warmUp));
                // a lower rate whose first update the flow check still finds too large gets the warm-up as well: it
                // starts that update at 1/N of the rate, and the check after the warm-up shows it in range
                if (warmUp == 0 && warmUpReachable && !choice.noChange() && chosen.learningRate() < b.learningRate
                        && after.has(FlowReport.Kind.UPDATE_TOO_LARGE)) {
                    warmUp = plannedWarmUp;
                    after = bench.flow(fixed, chosen.learningRate() / warmUp);
                }
            }
            List<String> lines = choice.nothingTrained()
                    ? List.of("no trial trained: the model as it is and every change tried diverged or could not learn"
                            + " (every gradient zero); see the flow check's findings before training it")
                    : Prescription.lines(choice.why(), choice.changeWhy(), chosen, chosenFixes, b.learningRate, suggested,
                            warmUp, b.warmUpFraction, b.plannedSteps);
            float[] sample;
            Shape sampleShape;
            try (ai.djl.ndarray.NDArray s = bench.sample()) {
                sample = s.toFloatArray();
                sampleShape = s.getShape();
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            DoctorResult result = new DoctorResult(before, after, choice.ranked(), chosen, chosenFixes, choice.noChange(),
                    lines, b.learningRate, range, b.plannedSteps, budget, steps, millis, new DoctorResult.Recipe(b.model,
                            b.seed, b.inputShape, sample, sampleShape), warmUp);
            if (b.record != null) {
                result.write(b.record);
            }
            LOG.info("Doctor:\n{}", result.text());
            return result;
        }
    }

    /** A warm-up is tried when the first update is too large a part of a weight, or the optimizer is Adam-like. */
    static boolean warmUpCalledFor(FlowReport before) {
        return before.has(FlowReport.Kind.UPDATE_TOO_LARGE) || before.updateRule().startsWith("Adam");
    }

    /** Builds a {@link Doctor}; every value is checked when set, the required ones at {@link #build()}. */
    public static final class Builder {
        private Supplier<Block> model;
        private DoubleFunction<? extends TrainingConfig> config;
        private double learningRate = Double.NaN;
        private Dataset data;
        private Shape inputShape;
        private int plannedSteps;
        private int budgetSteps;
        private int lrFinderSteps = 50;
        private int evalBatches = 2;
        private int seed = 42;
        private double margin = 0.1;
        private double changeMargin = DEFAULT_CHANGE_MARGIN;
        private double warmUpFraction = 0.1;
        private boolean stuckReinit = true;
        private double stuckMargin = DEFAULT_STUCK_MARGIN;
        private boolean cellSwap;
        private double cellSwapMargin = DEFAULT_CELL_SWAP_MARGIN;
        private Path record;
        private List<StructureFix> fixes = List.of(ReInitialize.he(), ReInitialize.xavier(),
                ReInitialize.orthogonalRecurrent(), new InsertLayerNorm(), new StandardizeInputs(),
                SwapRecurrentCell.gru(), Fixup.zeroInit(), new Lsuv());

        private Builder() {}

        /**
         * @param v makes a fresh, uninitialized model block on each call (the doctor seeds the engine before it
         *     initializes one)
         * @return this
         */
        public Builder model(Supplier<Block> v) {
            model = Objects.requireNonNull(v, "Doctor.builder().model");
            return this;
        }

        /**
         * @param v makes a training configuration, with a new optimizer, for a learning rate
         * @return this
         */
        public Builder config(DoubleFunction<? extends TrainingConfig> v) {
            config = Objects.requireNonNull(v, "Doctor.builder().config");
            return this;
        }

        /**
         * @param v your learning rate, positive and finite
         * @return this
         */
        public Builder learningRate(double v) {
            if (!(v > 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException("Doctor.builder().learningRate: " + v + " is not a positive finite number");
            }
            learningRate = v;
            return this;
        }

        /**
         * @param v the training data; its batches are read in order (use sequential sampling for the same batches)
         * @return this
         */
        public Builder data(Dataset v) {
            data = Objects.requireNonNull(v, "Doctor.builder().data");
            return this;
        }

        /**
         * @param v the model's input shape, batch axis first
         * @return this
         */
        public Builder inputShape(Shape v) {
            inputShape = Objects.requireNonNull(v, "Doctor.builder().inputShape");
            return this;
        }

        /**
         * @param v the steps you plan to train, 1 to 100000000; the default budget is a tenth of them
         * @return this
         */
        public Builder plannedSteps(int v) {
            if (v < 1 || v > 100_000_000) {
                throw new IllegalArgumentException("Doctor.builder().plannedSteps: " + v + " is outside [1, 100000000]");
            }
            plannedSteps = v;
            return this;
        }

        /**
         * @param v training steps for all trials together, 1 to 10000000 (default: a tenth of the planned steps)
         * @return this
         */
        public Builder budgetSteps(int v) {
            if (v < 1 || v > 10_000_000) {
                throw new IllegalArgumentException("Doctor.builder().budgetSteps: " + v + " is outside [1, 10000000]");
            }
            budgetSteps = v;
            return this;
        }

        /**
         * @param v steps of the learning-rate range test, 0 (no range test, no learning-rate trial) or 10 to 100000
         * @return this
         */
        public Builder lrFinderSteps(int v) {
            if (v != 0 && (v < 10 || v > 100_000)) {
                throw new IllegalArgumentException("Doctor.builder().lrFinderSteps: " + v + " is neither 0 nor in [10, 100000]");
            }
            lrFinderSteps = v;
            return this;
        }

        /**
         * @param v batches held back to evaluate each trial, 1 to 64 (default 2; the batches right after the training
         *     ones, or the last ones read when the data set is short)
         * @return this
         */
        public Builder evalBatches(int v) {
            if (v < 1 || v > 64) {
                throw new IllegalArgumentException("Doctor.builder().evalBatches: " + v + " is outside [1, 64]");
            }
            evalBatches = v;
            return this;
        }

        /**
         * @param v the engine seed every trial starts from (default 42)
         * @return this
         */
        public Builder seed(int v) {
            seed = v;
            return this;
        }

        /**
         * @param v how close to the best trial's loss, relative to it, a simpler trial must end to be prescribed
         *     instead (the model as it is: "no change needed"), in [0, 1] (default 0.1)
         * @return this
         */
        public Builder margin(double v) {
            margin = zeroTo("margin", v, 1);
            return this;
        }

        /**
         * How much better than the model as it is the best trial must end before any change is prescribed: the model
         * as it is must end above {@code best x (1 + v)}. Default {@value Doctor#DEFAULT_CHANGE_MARGIN} (the best trial
         * below a third of the model as it is), chosen on the generated family's tuning split: see
         * {@link Doctor#DEFAULT_CHANGE_MARGIN}. A model that diverges in its trial needs no margin.
         *
         * @param v in [0, 10]
         * @return this
         * @throws IllegalArgumentException outside [0, 10]
         */
        public Builder changeMargin(double v) {
            changeMargin = zeroTo("changeMargin", v, 10);
            return this;
        }

        /**
         * Whether a stuck model (activations and backward signal both out of range with depth in the flow check, and
         * no learning in its trial) gets the best re-initialization that ends below it divided by {@code 1 +}
         * {@link #stuckMargin} instead of the {@link #changeMargin} (see {@code TrialChoice}); on by default. Off, such
         * a model keeps the change margin like any model that trains.
         *
         * @param v true to re-initialize stuck models
         * @return this
         */
        public Builder stuckReinit(boolean v) {
            stuckReinit = v;
            return this;
        }

        /**
         * @param v how much better than a stuck model as it is its best re-initialization must end its trial before it
         *     is prescribed ({@link #stuckReinit}), in [0, 10]: the model as it is must end above the re-initialization's
         *     loss times {@code 1 + v} (default {@value Doctor#DEFAULT_STUCK_MARGIN})
         * @return this
         * @throws IllegalArgumentException when {@code v} is outside [0, 10]
         */
        public Builder stuckMargin(double v) {
            stuckMargin = zeroTo("stuckMargin", v, 10);
            return this;
        }

        /**
         * Whether a vanilla recurrent cell is swapped for a gated one by its own margin, {@link #cellSwapMargin}, with
         * or without a flow finding (see {@code TrialChoice}); off by default (see {@link Doctor#DEFAULT_CELL_SWAP_MARGIN}
         * for why). Off, a cell swap needs a flow finding and the {@link #changeMargin} like any change to a model that
         * trains.
         *
         * @param v true to hold cell swaps to their own margin
         * @return this
         */
        public Builder cellSwap(boolean v) {
            cellSwap = v;
            return this;
        }

        /**
         * @param v how much better than the model as it is a cell-swap trial must end before the swap is prescribed,
         *     in [0, 10]: the model as it is must end above the swap's loss times {@code 1 + v} (default
         *     {@value Doctor#DEFAULT_CELL_SWAP_MARGIN})
         * @return this
         * @throws IllegalArgumentException when {@code v} is outside [0, 10]
         */
        public Builder cellSwapMargin(double v) {
            cellSwapMargin = zeroTo("cellSwapMargin", v, 10);
            return this;
        }

        /**
         * @return {@code v} when it lies in [0, max] (NaN does not)
         * @throws IllegalArgumentException naming the builder method, the value and the range, otherwise
         */
        private static double zeroTo(String method, double v, int max) {
            if (!(v >= 0 && v <= max)) {
                throw new IllegalArgumentException("Doctor.builder()." + method + ": " + v + " is outside [0, " + max + "]");
            }
            return v;
        }

        /**
         * @param v the part of the planned steps a prescribed learning-rate warm-up lasts, in (0, 0.5] (default 0.1);
         *     the warm-up trial (tried when the flow check finds the first update too large, or the optimizer is
         *     Adam-like) warms up over the same part of its own steps, at least 2
         * @return this
         */
        public Builder warmUpFraction(double v) {
            if (!(v > 0) || v > 0.5) {
                throw new IllegalArgumentException("Doctor.builder().warmUpFraction: " + v + " is outside (0, 0.5]");
            }
            warmUpFraction = v;
            return this;
        }

        /**
         * @param v where to write the JSON record (see {@link DoctorResult#toJson()}); none by default
         * @return this
         */
        public Builder record(Path v) {
            record = Objects.requireNonNull(v, "Doctor.builder().record");
            return this;
        }

        /**
         * @param v the fixes to consider, in order (default: He, Xavier, orthogonal recurrent, LayerNorm, input
         *     standardization, vanilla RNN to GRU, Fixup zero-init of residual branches, LSUV); each is tried only where
         *     it {@link StructureFix#appliesTo applies}. {@link InsertBatchNorm} and {@link WrapResidual} are not in the
         *     defaults (on the generated family's tuning split they changed 5 more of 70 healthy models and helped no
         *     structural case); add them for conv nets or deep plain nets you are ready to change
         * @return this
         */
        public Builder fixes(List<StructureFix> v) {
            fixes = List.copyOf(v);
            return this;
        }

        /**
         * @return the doctor
         * @throws IllegalStateException naming the first required setting that is missing
         */
        public Doctor build() {
            String missing = model == null ? "model" : config == null ? "config" : Double.isNaN(learningRate)
                    ? "learningRate" : data == null ? "data" : inputShape == null ? "inputShape"
                    : plannedSteps == 0 ? "plannedSteps" : null;
            if (missing != null) {
                throw new IllegalStateException("Doctor.builder(): " + missing + " is required and was not set");
            }
            return new Doctor(this);
        }
    }
}
