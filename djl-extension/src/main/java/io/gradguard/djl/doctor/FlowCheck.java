package io.gradguard.djl.doctor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.translate.TranslateException;
import ai.djl.util.Pair;
import io.gradguard.djl.internal.OptimizerAccess;
import io.gradguard.djl.internal.TrainerAccess;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Gradient-flow check at initialization: one or a few batches forward and backward through the user's model,
 * <b>no optimizer step</b>, and the gradients cleared afterwards, so the model is left as it was.
 *
 * <p>Per weight parameter (in model order) it measures the gradient norm, the weight norm and their ratio, and the
 * update-to-weight ratio the configured optimizer would make on its first step:
 * <ul>
 *   <li>SGD (with or without momentum): {@code lr * ||g|| / ||w||} (the first step; with momentum {@code m} a steady
 *       gradient builds up to {@code 1/(1-m)} times that);</li>
 *   <li>Adam, AdamW (any optimizer whose class name contains {@code Adam}): {@code lr * sqrt(n) / ||w||}, with
 *       {@code n} the weight's element count: Adam's first bias-corrected step moves every element by about
 *       {@code lr}, whatever the gradient's size.</li>
 * </ul>
 * Where the model is a {@code SequentialBlock} (nested ones are entered too), it runs the children one by one and
 * records the activations' RMS after each. {@link FlowReport} holds the figures, their trend with depth and what is
 * out of range. Each batch costs one forward and one backward pass and one device-to-host copy.
 *
 * <pre>{@code
 * FlowReport r = FlowCheck.builder().learningRate(0.01).build().run(trainer, trainingSet);
 * System.out.println(r.text());
 * }</pre>
 */
public final class FlowCheck {

    private static final NDIndex ALL = new NDIndex("...");

    /**
     * How the DJL guard's warning on its first step begins (a {@code warning} event at step 0) when that step's flow,
     * judged by {@link #ofStep}, is out of the warning's bands.
     */
    public static final String FIRST_STEP_WARNING = io.gradguard.core.diagnose.FirstStepFlowWarning.WARNING;

    private final int batches;
    private final double learningRate;

    private FlowCheck(Builder b) {
        this.batches = b.batches;
        this.learningRate = b.learningRate;
    }

    /** @return a builder with the defaults: one batch, the learning rate read from the trainer's optimizer */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Runs the check on the first batches of a data set.
     *
     * @param trainer an initialized trainer (its optimizer gives the update rule, and its learning rate unless the
     *     builder set one)
     * @param dataset the training data
     * @return what was measured
     * @throws IllegalStateException when the data set cannot be read or yields no batch
     */
    public FlowReport run(Trainer trainer, Dataset dataset) {
        List<NDList> data = new ArrayList<>();
        List<NDList> labels = new ArrayList<>();
        List<Batch> open = new ArrayList<>();
        try {
            for (Batch b : trainer.iterateDataset(dataset)) {
                open.add(b);
                data.add(b.getData());
                labels.add(b.getLabels());
                if (open.size() >= batches) {
                    break;
                }
            }
            return run(trainer, data, labels);
        } catch (IOException | TranslateException e) {
            throw new IllegalStateException("FlowCheck: cannot read the data set: " + e, e);
        } finally {
            open.forEach(Batch::close);
        }
    }

    /**
     * Runs the check on given batches (all of them, whatever {@link Builder#batches} says).
     *
     * @param trainer an initialized trainer
     * @param data each batch's inputs
     * @param labels each batch's labels, same order
     * @return what was measured
     * @throws IllegalArgumentException when there is no batch or the two lists differ in length
     */
    public FlowReport run(Trainer trainer, List<NDList> data, List<NDList> labels) {
        if (data.isEmpty() || data.size() != labels.size()) {
            throw new IllegalArgumentException("FlowCheck.run: needs at least one batch and as many label lists as"
                    + " input lists, got " + data.size() + " inputs and " + labels.size() + " labels");
        }
        long start = System.nanoTime();
        Block root = trainer.getModel().getBlock();
        List<String> names = new ArrayList<>();
        List<Parameter> params = new ArrayList<>();
        for (Pair<String, Parameter> p : root.getParameters()) {
            if (p.getValue().isInitialized()) {
                names.add(p.getKey());
                params.add(p.getValue());
            }
        }
        ParameterStore store = TrainerAccess.parameterStore(trainer);
        if (store == null) {
            store = new ParameterStore(trainer.getManager(), false);
        }
        int n = params.size();
        double[] grad = new double[n];
        double[] weight = new double[n];
        List<String> actNames = new ArrayList<>();
        List<Boolean> actWeighted = new ArrayList<>();
        double[] act = null;
        double[] actGrad = null;
        double actIn = 0;
        double loss = 0;
        double spread = Double.NaN;
        for (int b = 0; b < data.size(); b++) {
            clear(params);
            try (NDManager scope = trainer.getManager().newSubManager()) {
                List<NDArray> acts = new ArrayList<>();
                List<NDArray> probes = new ArrayList<>();
                NDArray[] firstInput = new NDArray[1];
                NDArray lossArray;
                NDList x = inScope(data.get(b), scope);
                NDList y = inScope(labels.get(b), scope);
                try (GradientCollector gc = trainer.newGradientCollector()) {
                    NDList pred;
                    if (root instanceof SequentialBlock seq) {
                        actNames.clear();
                        actWeighted.clear();
                        acts.add(rms(x.head()));
                        pred = trace(seq, store, x, "", acts, probes, actNames, actWeighted, firstInput);
                    } else {
                        pred = trainer.forward(x, y);
                    }
                    lossArray = trainer.getLoss().evaluate(y, pred).mean();
                    gc.backward(lossArray);
                }
                NDList parts = new NDList();
                parts.add(lossArray);
                for (NDArray a : acts) {
                    parts.add(a);
                }
                for (NDArray p : probes) {
                    parts.add(p.getGradient().toType(ai.djl.ndarray.types.DataType.FLOAT32, false).square().mean()
                            .sqrt());
                }
                for (Parameter p : params) {
                    NDArray w = p.getArray();
                    parts.add(w.norm().toType(ai.djl.ndarray.types.DataType.FLOAT32, false));
                    parts.add(w.hasGradient() ? w.getGradient().norm() : w.getManager().create(Float.NaN));
                }
                for (NDArray a : parts) {
                    a.attach(scope);
                }
                float[] host = ai.djl.ndarray.NDArrays.stack(parts.toDevice(parts.head().getDevice(), false))
                        .toFloatArray();
                loss += host[0] / data.size();
                if (act == null) {
                    act = new double[acts.size()];
                    actGrad = new double[probes.size()];
                }
                for (int i = 0; i < acts.size() && i < act.length; i++) {
                    act[i] += host[1 + i] / data.size();
                }
                for (int i = 0; i < probes.size() && i < actGrad.length; i++) {
                    actGrad[i] += host[1 + acts.size() + i] / data.size();
                }
                int off = 1 + acts.size() + probes.size();
                for (int i = 0; i < n; i++) {
                    weight[i] = host[off + 2 * i];
                    grad[i] += host[off + 2 * i + 1] / data.size();
                }
                if (b == 0) {
                    spread = inputSpread(firstInput[0] != null ? firstInput[0] : x.head());
                }
            } finally {
                clear(params);
            }
        }
        Optimizer optimizer = io.gradguard.djl.internal.OptimizerAccess.optimizer(trainer);
        double lr = !Double.isNaN(learningRate) ? learningRate
                : optimizer == null ? Double.NaN : OptimizerAccess.learningRate(optimizer, 1);
        List<FlowReport.Layer> layers = layers(names, params, grad, weight, optimizer, lr);
        List<FlowReport.Activation> activations = new ArrayList<>();
        if (act != null) {
            for (int i = 1; i < act.length && i - 1 < actNames.size(); i++) {
                activations.add(new FlowReport.Activation(actNames.get(i - 1), act[i], act[i] / act[i - 1],
                        actGrad[i - 1], actWeighted.get(i - 1)));
            }
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        return FlowJudge.judge(layers, activations, spread, loss, updateRule(optimizer), lr, data.size(), millis);
    }

    /**
     * The check from a training step's own numbers, with no pass of its own: the weight gradients' trend with depth
     * and the update-to-weight ratio of each weight (no activations, no input spread). A guard calls it on its first
     * step with the norms it measured anyway.
     *
     * @param names the parameters' names, model order
     * @param params the parameters, same order
     * @param gradNorms each parameter's gradient L2 norm
     * @param weightNorms each parameter's L2 norm
     * @param optimizer the trainer's optimizer, or null when unknown (then SGD's rule is assumed)
     * @param lr the learning rate of the first update
     * @param loss the step's loss, NaN when unknown
     * @return the report; {@link FlowReport#passes()} is 0
     * @throws IllegalArgumentException when the arrays and lists differ in length
     */
    public static FlowReport ofStep(List<String> names, List<Parameter> params, double[] gradNorms, double[] weightNorms,
            Optimizer optimizer, double lr, double loss) {
        if (names.size() != params.size() || gradNorms.length != params.size() || weightNorms.length != params.size()) {
            throw new IllegalArgumentException("FlowCheck.ofStep: " + names.size() + " names, " + params.size()
                    + " parameters, " + gradNorms.length + " gradient norms and " + weightNorms.length
                    + " weight norms; they must match");
        }
        return FlowJudge.judge(layers(names, params, gradNorms, weightNorms, optimizer, lr), List.of(), Double.NaN, loss,
                updateRule(optimizer), lr, 0, 0);
    }

    private static boolean adam(Optimizer optimizer) {
        return optimizer != null && optimizer.getClass().getSimpleName().contains("Adam");
    }

    private static String updateRule(Optimizer optimizer) {
        return adam(optimizer) ? "Adam: lr*sqrt(n)/||w||"
                : String.format(java.util.Locale.ROOT, "SGD%s: lr*||g||/||w|| (first step)",
                        optimizer == null || OptimizerAccess.momentum(optimizer) == 0 ? ""
                                : String.format(java.util.Locale.ROOT, " momentum %.3g", OptimizerAccess.momentum(optimizer)));
    }

    /** One row per trainable weight (biases folded into their block's row), the first update by the optimizer's rule. */
    private static List<FlowReport.Layer> layers(List<String> names, List<Parameter> params, double[] grad,
            double[] weight, Optimizer optimizer, double lr) {
        boolean adam = adam(optimizer);
        int n = params.size();
        List<FlowReport.Layer> layers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Parameter p = params.get(i);
            if (p.getType() != Parameter.Type.WEIGHT || !p.requiresGradient()) {
                continue;
            }
            String block = blockOf(names.get(i));
            double bias = Double.NaN;
            for (int j = 0; j < n; j++) {
                if (params.get(j).getType() == Parameter.Type.BIAS && blockOf(names.get(j)).equals(block)) {
                    bias = grad[j];
                }
            }
            long size = p.getArray().size();
            double update = adam ? lr * Math.sqrt(size) / weight[i] : lr * grad[i] / weight[i];
            layers.add(new FlowReport.Layer(names.get(i), block, layers.size(), size, grad[i], weight[i],
                    grad[i] / weight[i], update, bias));
        }
        return layers;
    }

    /**
     * Runs the children of a sequential block one by one (entering nested ones), recording each output's RMS and
     * adding a zero probe to it whose gradient, after backward, is the loss's gradient with respect to that output.
     */
    private static NDList trace(SequentialBlock seq, ParameterStore store, NDList x, String prefix, List<NDArray> acts,
            List<NDArray> probes, List<String> names, List<Boolean> weighted, NDArray[] firstInput) {
        for (Pair<String, Block> child : seq.getChildren()) {
            Block c = child.getValue();
            String path = prefix + child.getKey();
            if (c instanceof SequentialBlock inner) {
                x = trace(inner, store, x, path + "/", acts, probes, names, weighted, firstInput);
            } else {
                if (firstInput[0] == null && trainable(c)) {
                    firstInput[0] = x.head();
                }
                x = c.forward(store, x, true);
                NDArray out = x.head();
                NDArray probe = out.getManager().zeros(out.getShape(), out.getDataType(), out.getDevice());
                probe.setRequiresGradient(true);
                probes.add(probe);
                NDList next = new NDList(x.size());
                next.add(out.add(probe));
                for (int i = 1; i < x.size(); i++) {
                    next.add(x.get(i));
                }
                x = next;
                acts.add(rms(out));
                names.add(path);
                weighted.add(weightLayer(c));
            }
        }
        return x;
    }

    /** A weight layer: one with a weight inside (a normalization's scale and shift are not weights). */
    private static boolean weightLayer(Block b) {
        for (Pair<String, Parameter> p : b.getParameters()) {
            if (p.getValue().getType() == Parameter.Type.WEIGHT) {
                return true;
            }
        }
        return false;
    }

    /** Copies a batch into the scope, so that everything computed from it is freed with the scope. */
    static NDList inScope(NDList list, NDManager scope) {
        NDList out = new NDList(list.size());
        for (NDArray a : list) {
            NDArray c = a.duplicate();
            c.attach(scope);
            out.add(c);
        }
        return out;
    }

    private static boolean trainable(Block b) {
        for (Pair<String, Parameter> p : b.getParameters()) {
            if (p.getValue().requiresGradient()) {
                return true;
            }
        }
        return false;
    }

    private static NDArray rms(NDArray a) {
        NDArray d = a.stopGradient().toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
        return d.square().mean().sqrt();
    }

    /** Largest column standard deviation over the median one, over the last axis; NaN for fewer than 2 columns. */
    private static double inputSpread(NDArray x) {
        if (x.getShape().dimension() < 2 || x.getShape().getShape()[x.getShape().dimension() - 1] < 2) {
            return Double.NaN;
        }
        long cols = x.getShape().getShape()[x.getShape().dimension() - 1];
        try (NDManager scope = x.getManager().newSubManager()) {
            NDArray flat = x.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).reshape(-1, cols);
            flat.attach(scope);
            NDArray sd = flat.sub(flat.mean(new int[] {0})).square().mean(new int[] {0}).sqrt();
            sd.attach(scope);
            float[] s = sd.toFloatArray();
            java.util.Arrays.sort(s);
            double median = s[s.length / 2];
            return s[s.length - 1] / median;
        }
    }

    static String blockOf(String param) {
        int cut = param.lastIndexOf('_');
        return cut > 0 ? param.substring(0, cut) : param;
    }

    private static void clear(List<Parameter> params) {
        for (Parameter p : params) {
            NDArray w = p.getArray();
            if (w.hasGradient()) {
                try (NDArray g = w.getGradient()) {
                    g.set(ALL, 0);
                }
            }
        }
    }

    /** Builds a {@link FlowCheck}; every value is checked when set. */
    public static final class Builder {
        private int batches = 1;
        private double learningRate = Double.NaN;

        private Builder() {}

        /**
         * @param v how many batches to average over, 1 to 64 (each one forward and one backward pass)
         * @return this
         */
        public Builder batches(int v) {
            if (v < 1 || v > 64) {
                throw new IllegalArgumentException("FlowCheck.builder().batches: " + v + " is outside [1, 64]");
            }
            batches = v;
            return this;
        }

        /**
         * @param v the learning rate the update ratio uses, positive and finite; by default the one the trainer's
         *     optimizer gives its first update (which is 0 at the start of a warm-up: set the peak rate here then)
         * @return this
         */
        public Builder learningRate(double v) {
            if (!(v > 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException("FlowCheck.builder().learningRate: " + v
                        + " is not a positive finite number");
            }
            learningRate = v;
            return this;
        }

        /** @return the check */
        public FlowCheck build() {
            return new FlowCheck(this);
        }
    }
}
