package io.gradguard.models.tf;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.framework.optimizers.Adam;
import org.tensorflow.framework.optimizers.GradientDescent;
import org.tensorflow.framework.optimizers.Momentum;
import org.tensorflow.framework.optimizers.Optimizer;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * A TensorFlow Java graph-mode scenario: a deep plain tanh MLP (8 hidden layers of 32, no normalization,
 * no residuals) fitting a seeded teacher network, trained with a {@code tensorflow-framework} optimizer.
 *
 * <p>Cause of explosion: a learning rate too high for SGD with momentum 0.9 on a deep net whose
 * layers multiply each other's gradients. Measured over 400 steps (eval loss): lr 0.005 0.0485, 0.01
 * 0.0464, 0.02 0.0457 (tuned), 0.05 0.0457, 0.1 NaN, 0.2 NaN, each the same with the rate moved by
 * 1e-6 relative, so the explosion is not a coin toss. Weights are initialized from Java's seeded
 * {@link Random} (Xavier normal) and every batch is generated in Java; run it in {@link #session} for
 * bit-reproducible runs.
 *
 * <p>The ReLU variant is kept for comparison: at lr 0.1 it does not go NaN under the guard but dies
 * (every unit inactive, loss flat at the targets' variance), which is not an explosion GradGuard
 * detects.
 */
public final class TfMlpScenario {

    /** Input features. */
    public static final int IN = 8;
    /** Rows per batch. */
    public static final int BATCH = 32;

    private final int depth;
    private final int width;
    private final long seed;
    private final boolean tanh;
    private final double initGain;

    /** The scenario the tests use: 8 tanh hidden layers of 32 units. */
    public TfMlpScenario() {
        this(8, 32, 7L, true);
    }

    /**
     * @param depth hidden layers
     * @param width units per hidden layer
     * @param seed seed for weights and data
     * @param tanh tanh hidden units instead of ReLU
     */
    public TfMlpScenario(int depth, int width, long seed, boolean tanh) {
        this(depth, width, seed, tanh, 1.0);
    }

    private TfMlpScenario(int depth, int width, long seed, boolean tanh, double initGain) {
        this.depth = depth;
        this.width = width;
        this.seed = seed;
        this.tanh = tanh;
        this.initGain = initGain;
    }

    /**
     * The same scenario with every weight matrix drawn at {@code gain} times its usual standard deviation
     * (sqrt(1/fan-in) for tanh, He's sqrt(2/fan-in) for ReLU). A gain above 1 is the "initialized too
     * large" scenario of the structure doctor: in a deep plain ReLU net the gradient signal then grows by
     * about {@code gain} per layer on its way back to the input, and plain gradient descent at a rate that
     * trains the He-initialized net explodes.
     *
     * @param gain factor on the weights' standard deviation, finite and &gt; 0
     * @return the scenario with that initialization (same seeds, so the same draws scaled)
     * @throws IllegalArgumentException when {@code gain} is not finite and &gt; 0
     */
    public TfMlpScenario withInitGain(double gain) {
        if (!(gain > 0) || !Double.isFinite(gain)) {
            throw new IllegalArgumentException("init gain must be finite and > 0, but was " + gain);
        }
        return new TfMlpScenario(depth, width, seed, tanh, gain);
    }

    /**
     * @param depth hidden layers
     * @param width units per hidden layer
     * @param seed seed for weights and data
     */
    public TfMlpScenario(int depth, int width, long seed) {
        this(depth, width, seed, false);
    }

    /** The learning rate tuned for SGD with momentum 0.9 (best of the sweep, with a 2.5x margin to NaN). */
    public static final float TUNED_SGD_MOMENTUM_LR = 0.02f;

    /** Ten times the tuned rate: NaN within a few steps without a guard. */
    public static final float EXPLODING_SGD_MOMENTUM_LR = 0.2f;

    /** A graph with its inputs and loss. */
    public static final class Model implements AutoCloseable {
        /** The graph. */
        public final Graph graph;
        /** The ops. */
        public final Ops tf;
        /** Inputs, [batch, IN]. */
        public final Placeholder<TFloat32> x;
        /** Targets, [batch, 1]. */
        public final Placeholder<TFloat32> y;
        /** Mean squared error. */
        public final Operand<TFloat32> loss;
        /** The trainable variables, input to output. */
        public final List<Variable<TFloat32>> variables;

        Model(Graph graph, Ops tf, Placeholder<TFloat32> x, Placeholder<TFloat32> y, Operand<TFloat32> loss,
                List<Variable<TFloat32>> variables) {
            this.graph = graph;
            this.tf = tf;
            this.x = x;
            this.y = y;
            this.loss = loss;
            this.variables = variables;
        }

        @Override
        public void close() {
            graph.close();
        }
    }

    /** @return a fresh graph with the model and its loss */
    public Model build() {
        Graph g = new Graph();
        Ops tf = Ops.create(g);
        Random rng = new Random(seed);
        Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, IN)));
        Placeholder<TFloat32> y = tf.withName("y").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 1)));
        List<Variable<TFloat32>> vars = new ArrayList<>();
        Operand<TFloat32> h = x;
        int in = IN;
        for (int l = 0; l <= depth; l++) {
            boolean last = l == depth;
            int out = last ? 1 : width;
            float[] w = new float[in * out];
            double std = initGain * Math.sqrt((tanh ? 1.0 : 2.0) / in);
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (rng.nextGaussian() * std);
            }
            Variable<TFloat32> wv = tf.withName("dense" + l + "_kernel").variable(
                    tf.constant(Shape.of(in, out), DataBuffers.of(w)));
            Variable<TFloat32> bv = tf.withName("dense" + l + "_bias").variable(
                    tf.constant(Shape.of(out), DataBuffers.of(new float[out])));
            vars.add(wv);
            vars.add(bv);
            Operand<TFloat32> z = tf.math.add(tf.linalg.matMul(h, wv), bv);
            h = last ? z : tanh ? tf.math.tanh(z) : tf.nn.relu(z);
            in = out;
        }
        Operand<TFloat32> loss = tf.withName("loss").math.mean(tf.math.square(tf.math.sub(h, y)), tf.constant(new int[] {0, 1}));
        return new Model(g, tf, x, y, loss, vars);
    }

    /**
     * A session that runs every op on one thread, so a run is reproducible: with TensorFlow's thread pools
     * a chaotic run (an exploding one) can end differently from one JVM to the next.
     *
     * @param graph the graph
     * @return the session
     */
    public static Session session(Graph graph) {
        return new Session(graph, org.tensorflow.proto.ConfigProto.newBuilder()
                .setIntraOpParallelismThreads(1).setInterOpParallelismThreads(1).build());
    }

    /** A seeded stream of batches from the teacher. */
    public final class Data {
        private final Random rng;
        private final float[][] teacher1;
        private final float[] teacher2;

        Data(long dataSeed) {
            Random t = new Random(seed * 31 + 1);
            teacher1 = new float[IN][16];
            teacher2 = new float[16];
            for (int i = 0; i < IN; i++) {
                for (int j = 0; j < 16; j++) {
                    teacher1[i][j] = (float) (t.nextGaussian() / Math.sqrt(IN));
                }
            }
            for (int j = 0; j < 16; j++) {
                teacher2[j] = (float) (t.nextGaussian() / 4.0);
            }
            rng = new Random(dataSeed);
        }

        /**
         * @param xs receives BATCH*IN inputs
         * @param ys receives BATCH targets
         */
        public void next(float[] xs, float[] ys) {
            for (int r = 0; r < ys.length; r++) {
                double out = 0;
                for (int i = 0; i < IN; i++) {
                    xs[r * IN + i] = (float) rng.nextGaussian();
                }
                for (int j = 0; j < 16; j++) {
                    double a = 0;
                    for (int i = 0; i < IN; i++) {
                        a += xs[r * IN + i] * teacher1[i][j];
                    }
                    out += Math.tanh(a) * teacher2[j];
                }
                ys[r] = (float) (2.0 * out + 0.05 * rng.nextGaussian());
            }
        }
    }

    /** @return the training stream */
    public Data trainData() {
        return new Data(seed * 131 + 3);
    }

    /** @return the clean evaluation stream (different seed) */
    public Data evalData() {
        return new Data(seed * 977 + 5);
    }

    /**
     * Runs one batch through a session.
     *
     * @param session the session
     * @param model the model
     * @param xs inputs
     * @param ys targets
     * @param step a function (runner with the batch fed, fetching the loss first) -> result
     * @return the batch loss
     */
    public static float run(Session session, Model model, float[] xs, float[] ys,
            BiFunction<Session, Session.Runner, Result> step) {
        try (Batch b = Batch.of(xs, ys); Result r = step.apply(session, b.feed(session, model).fetch(model.loss))) {
            return ((TFloat32) r.get(0)).getFloat();
        }
    }

    /**
     * One batch as tensors.
     *
     * @param x inputs, [rows, IN]
     * @param y targets, [rows, 1]
     */
    public record Batch(TFloat32 x, TFloat32 y) implements AutoCloseable {

        /**
         * @param xs rows * IN inputs
         * @param ys rows targets
         * @return the tensors; close them
         */
        public static Batch of(float[] xs, float[] ys) {
            return new Batch(TFloat32.tensorOf(Shape.of(ys.length, IN), DataBuffers.of(xs)),
                    TFloat32.tensorOf(Shape.of(ys.length, 1), DataBuffers.of(ys)));
        }

        /**
         * @param session the session
         * @param model the model
         * @return a new runner with this batch fed
         */
        public Session.Runner feed(Session session, Model model) {
            return session.runner().feed(model.x, x).feed(model.y, y);
        }

        @Override
        public void close() {
            x.close();
            y.close();
        }
    }

    /**
     * The loss on 8 clean evaluation batches.
     *
     * @param session the session
     * @param model the model
     * @return the mean evaluation loss (NaN when the model is NaN)
     */
    public float evaluate(Session session, Model model) {
        Data d = evalData();
        float[] xs = new float[BATCH * IN];
        float[] ys = new float[BATCH];
        double sum = 0;
        for (int b = 0; b < 8; b++) {
            d.next(xs, ys);
            sum += run(session, model, xs, ys, (s, r) -> r.run());
        }
        return (float) (sum / 8);
    }

    /**
     * @param graph the graph
     * @param lr learning rate
     * @return SGD with momentum 0.9
     */
    public static Optimizer sgdMomentum(Graph graph, float lr) {
        return new Momentum(graph, lr, 0.9f, false);
    }

    /**
     * @param graph the graph
     * @param lr learning rate
     * @return plain SGD
     */
    public static Optimizer sgd(Graph graph, float lr) {
        return new GradientDescent(graph, lr);
    }

    /**
     * @param graph the graph
     * @param lr learning rate
     * @return Adam with TensorFlow's defaults otherwise
     */
    public static Optimizer adam(Graph graph, float lr) {
        return new Adam(graph, lr);
    }
}
