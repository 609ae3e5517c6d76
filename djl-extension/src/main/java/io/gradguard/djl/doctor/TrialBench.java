package io.gradguard.djl.doctor;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.TrainingConfig;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset;
import ai.djl.translate.TranslateException;
import io.gradguard.djl.internal.OptimizerAccess;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleFunction;
import java.util.function.Supplier;

/**
 * Where the doctor's trials run: the batches read once and held in the doctor's own manager, so that every trial
 * trains on the same batches in the same order; each model built from the factory with the engine seeded first.
 */
final class TrialBench implements AutoCloseable {

    private final NDManager manager;
    private final Supplier<Block> factory;
    private final DoubleFunction<? extends TrainingConfig> configs;
    private final Shape inputShape;
    private final int seed;
    final List<NDList> data = new ArrayList<>();
    final List<NDList> labels = new ArrayList<>();
    private final int trainBatches;
    private final int evalFrom;

    TrialBench(Supplier<Block> factory, DoubleFunction<? extends TrainingConfig> configs, Dataset dataset,
            Shape inputShape, int seed, int trainBatches, int evalBatches) {
        this.manager = NDManager.newBaseManager();
        this.factory = factory;
        this.configs = configs;
        this.inputShape = inputShape;
        this.seed = seed;
        try {
            for (Batch b : dataset.getData(manager)) {
                try (b) {
                    data.add(keep(b.getData()));
                    labels.add(keep(b.getLabels()));
                }
                if (data.size() >= trainBatches + evalBatches) {
                    break;
                }
            }
        } catch (IOException | TranslateException e) {
            manager.close();
            throw new IllegalStateException("Doctor: cannot read the data set: " + e, e);
        }
        if (data.isEmpty()) {
            manager.close();
            throw new IllegalArgumentException("Doctor: the data set yielded no batch");
        }
        this.trainBatches = Math.max(1, Math.min(trainBatches, data.size() - Math.min(evalBatches, data.size() / 2)));
        // evaluation batches follow the training ones where the data has them, else the last batches are reused
        this.evalFrom = Math.min(this.trainBatches, data.size() - 1);
    }

    private NDList keep(NDList list) {
        return FlowCheck.inScope(list, manager);
    }

    /** @return the inputs of the training batches, stacked along the first axis (for data-dependent fixes) */
    NDArray sample() {
        NDList heads = new NDList();
        for (int i = 0; i < trainBatches; i++) {
            heads.add(data.get(i).head());
        }
        NDArray s = heads.size() == 1 ? heads.head().duplicate() : ai.djl.ndarray.NDArrays.concat(heads);
        s.attach(manager);
        return s;
    }

    /** A model built from the factory, initialized, with fixes applied, and its trainer at a learning rate. */
    record Built(Model model, Trainer trainer, List<FixResult> fixes) implements AutoCloseable {
        @Override
        public void close() {
            trainer.close();
            model.close();
        }
    }

    Built build(List<StructureFix> fixes, double lr) {
        Block block = factory.get();
        Engine.getInstance().setRandomSeed(seed);
        Model model = Model.newInstance("gradguard-doctor");
        try {
            model.setBlock(block);
            block.initialize(model.getNDManager(), DataType.FLOAT32, inputShape);
            List<FixResult> results = new ArrayList<>();
            NDArray sample = fixes.isEmpty() ? null : sample();
            for (StructureFix f : fixes) {
                FixResult r = f.apply(block, new FixContext(model.getNDManager(), inputShape, sample));
                results.add(r);
                block = r.block();
                // blocks a fix inserted get their parameters now, so that the next fix can act on them
                block.initialize(model.getNDManager(), DataType.FLOAT32, inputShape);
            }
            if (sample != null) {
                sample.close();
            }
            model.setBlock(block);
            Trainer trainer = model.newTrainer(configs.apply(lr));
            trainer.initialize(inputShape);
            return new Built(model, trainer, results);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    FlowReport flow(Built b, double lr) {
        return FlowCheck.builder().learningRate(lr).build().run(b.trainer(), data.subList(0, 1), labels.subList(0, 1));
    }

    Trial train(String name, List<StructureFix> fixes, double lr, int steps) {
        return train(name, fixes, lr, steps, 0);
    }

    /**
     * One trial; with {@code warmUp > 0} the optimizer's learning rate is scaled by {@code min(1, i / warmUp)} at
     * step {@code i} (from 1): a linear warm-up laid over whatever tracker the configuration made.
     *
     * @throws IllegalStateException when a warm-up is asked for and the optimizer's rate cannot be reached
     */
    Trial train(String name, List<StructureFix> fixes, double lr, int steps, int warmUp) {
        List<Double> losses = new ArrayList<>();
        boolean diverged = false;
        double fin;
        try (Built b = build(fixes, lr)) {
            Trainer t = b.trainer();
            int[] done = {0};
            if (warmUp > 0) {
                ai.djl.training.optimizer.Optimizer o = OptimizerAccess.optimizer(t);
                if (o == null || OptimizerAccess.scaleLearningRate(o, OptimizerAccess.linearWarmUp(warmUp, () -> done[0])) == 0) {
                    throw new IllegalStateException("Doctor: cannot warm up the learning rate of trial " + name
                            + ": the trainer's optimizer (" + (o == null ? "not found" : o.getClass().getName())
                            + ") has no learning-rate tracker the doctor can reach");
                }
            }
            for (int i = 0; i < steps && !diverged; i++) {
                int k = i % trainBatches;
                double loss;
                try (NDManager scope = manager.newSubManager()) {
                    NDArray l;
                    NDList x = FlowCheck.inScope(data.get(k), scope);
                    NDList y = FlowCheck.inScope(labels.get(k), scope);
                    try (GradientCollector gc = t.newGradientCollector()) {
                        NDList pred = t.forward(x, y);
                        l = t.getLoss().evaluate(y, pred).mean();
                        gc.backward(l);
                    }
                    loss = l.getFloat();
                }
                losses.add(loss);
                if (!Double.isFinite(loss)) {
                    diverged = true;
                    break;
                }
                done[0] = i;
                try {
                    t.step();
                } catch (IllegalStateException e) {
                    // a dead model that cannot learn ranks with the trials that failed
                    if (!deadModel(e)) {
                        throw e;
                    }
                    diverged = true;
                    break;
                }
            }
            fin = diverged ? Double.NaN : evalLoss(t);
        }
        List<String> names = fixes.stream().map(StructureFix::name).toList();
        return new Trial(name, names, lr, List.copyOf(losses), fin, diverged || !Double.isFinite(fin), warmUp);
    }

    /**
     * @param e what {@code Trainer.step()} threw
     * @return true when it is DJL refusing to step a model whose every gradient is exactly zero (a dead model)
     */
    static boolean deadModel(IllegalStateException e) {
        return String.valueOf(e.getMessage()).contains("Gradient values are all zeros");
    }

    private double evalLoss(Trainer t) {
        double sum = 0;
        int n = 0;
        for (int i = evalFrom; i < data.size(); i++) {
            try (NDManager scope = manager.newSubManager()) {
                NDList pred = t.evaluate(FlowCheck.inScope(data.get(i), scope));
                NDArray l = t.getLoss().evaluate(FlowCheck.inScope(labels.get(i), scope), pred).mean();
                sum += l.getFloat();
                n++;
            }
        }
        return sum / n;
    }

    int trainBatches() {
        return trainBatches;
    }

    @Override
    public void close() {
        manager.close();
    }
}
