package io.gradguard.models.family.tf;

import io.gradguard.models.ScenarioData;
import io.gradguard.models.family.FamilyData;
import io.gradguard.models.family.OracleSearch;
import io.gradguard.models.family.Setup;
import io.gradguard.models.family.Setup.Act;
import io.gradguard.models.family.Setup.Arch;
import io.gradguard.models.family.Setup.Init;
import io.gradguard.models.family.Setup.Opt;
import io.gradguard.models.family.Setup.Schedule;
import io.gradguard.models.family.Setup.Task;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.framework.optimizers.Adam;
import org.tensorflow.framework.optimizers.GradientDescent;
import org.tensorflow.framework.optimizers.Momentum;
import org.tensorflow.framework.optimizers.Optimizer;
import org.tensorflow.framework.optimizers.RMSProp;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The TensorFlow Java half of the generated family: graph-mode MLPs (regression or classification) trained
 * with GradientDescent, Momentum or RMSProp, drawn from a seed like the DJL half and measured the same way. The seeds are the same two {@link io.gradguard.models.family.FamilyGenerator.Split}s; a TensorFlow
 * set-up is drawn with its own salt, so seed 9000's TensorFlow set-up is unrelated to its DJL one.
 */
public final class TfFamily {

    private TfFamily() {}

    /**
     * Draws the TensorFlow set-up of a seed.
     *
     * @param seed the seed
     * @return the set-up (architecture MLP, fixed schedule)
     */
    public static Setup draw(long seed) {
        Random r = new Random(seed * 0x2545F4914F6CDD1DL + 101);
        int depth = 2 + r.nextInt(9);
        int width = new int[] {16, 32, 64}[r.nextInt(3)];
        Act act = r.nextBoolean() ? Act.RELU : Act.TANH;
        Init init = Init.values()[r.nextInt(Init.values().length)];
        // not Adam: tensorflow-framework 1.1's Adam updates its beta powers in ops unordered with the updates
        // that read them, so the same seeded run ends differently from run to run (0.0823 to 0.0870 here)
        Opt opt = new Opt[] {Opt.SGD, Opt.MOMENTUM, Opt.RMSPROP}[r.nextInt(3)];
        int batch = new int[] {16, 32, 64}[r.nextInt(3)];
        int steps = (int) Math.round(Math.exp(Math.log(150) + r.nextDouble() * Math.log(600.0 / 150)) / 50) * 50;
        double multiplier = Math.exp(Math.log(2) + r.nextDouble() * Math.log(50));
        Task task = r.nextBoolean() ? Task.REGRESSION : Task.CLASSIFICATION;
        int outputs = task == Task.CLASSIFICATION ? 3 + r.nextInt(6) : 1 + r.nextInt(3);
        int features = r.nextBoolean() ? 8 : 16;
        return new Setup(seed, Arch.MLP, depth, width, act, init, false, opt, batch, Schedule.FIXED, task, outputs,
                features, 0, steps, multiplier);
    }

    /**
     * @param s a TensorFlow set-up
     * @return the learning rate its oracle grid is centred on: GradientDescent 0.05, Momentum 0.01,
     *     RMSProp and Adam 0.002
     */
    public static float nominalLr(Setup s) {
        return switch (s.optimizer()) {
            case SGD -> 0.05f;
            case MOMENTUM -> 0.01f;
            default -> 0.002f;
        };
    }

    /**
     * The optimizer of a set-up, on a graph.
     *
     * @param s the set-up
     * @param graph the graph
     * @param lr the learning rate
     * @return a new optimizer
     */
    public static Optimizer optimizer(Setup s, Graph graph, float lr) {
        return switch (s.optimizer()) {
            case SGD -> new GradientDescent(graph, lr);
            case MOMENTUM -> new Momentum(graph, lr, 0.9f, false);
            case RMSPROP -> new RMSProp(graph, lr);
            case ADAM -> new Adam(graph, lr);
            default -> throw new IllegalArgumentException("no TensorFlow optimizer for " + s.optimizer());
        };
    }

    /** One set-up's graph: the model, its loss and its placeholders. */
    public static final class Model implements AutoCloseable {
        /** the graph */
        public final Graph graph;
        /** the ops */
        public final Ops tf;
        /** the input placeholder */
        public final Placeholder<TFloat32> x;
        /** the label placeholder (float targets, or class indices as floats) */
        public final Placeholder<TFloat32> y;
        /** the batch loss */
        public final Operand<TFloat32> loss;
        private final Setup setup;

        Model(Setup setup, Graph graph, Ops tf, Placeholder<TFloat32> x, Placeholder<TFloat32> y, Operand<TFloat32> loss) {
            this.setup = setup;
            this.graph = graph;
            this.tf = tf;
            this.x = x;
            this.y = y;
            this.loss = loss;
        }

        /** @return the set-up */
        public Setup setup() {
            return setup;
        }

        @Override
        public void close() {
            graph.close();
        }
    }

    /**
     * Builds the graph of a set-up, weights drawn from its seed.
     *
     * @param s the set-up
     * @return the model
     */
    public static Model build(Setup s) {
        Graph g = new Graph();
        Ops tf = Ops.create(g);
        Random rng = new Random(s.seed() * 31 + 11);
        Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, s.features())));
        boolean cls = s.task().classification();
        Placeholder<TFloat32> y = tf.withName("y").placeholder(TFloat32.class,
                Placeholder.shape(cls ? Shape.of(-1, 1) : Shape.of(-1, s.outputs())));
        Operand<TFloat32> h = x;
        int in = s.features();
        for (int l = 0; l <= s.depth(); l++) {
            boolean last = l == s.depth();
            int out = last ? s.outputs() : s.width();
            float[] w = new float[in * out];
            double std = switch (s.init()) {
                case HE -> Math.sqrt(2.0 / in);
                case LECUN -> Math.sqrt(1.0 / in);
                case XAVIER -> Math.sqrt(2.0 / (in + out));
            };
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (rng.nextGaussian() * std);
            }
            Variable<TFloat32> wv = tf.withName("dense" + l + "_kernel").variable(tf.constant(Shape.of(in, out), DataBuffers.of(w)));
            Variable<TFloat32> bv = tf.withName("dense" + l + "_bias").variable(tf.constant(Shape.of(out), DataBuffers.of(new float[out])));
            Operand<TFloat32> z = tf.math.add(tf.linalg.matMul(h, wv), bv);
            h = last ? z : s.activation() == Act.TANH ? tf.math.tanh(z) : tf.nn.relu(z);
            in = out;
        }
        Operand<TFloat32> loss;
        if (cls) {
            // cross-entropy from log-softmax and one-hot labels: TensorFlow's C++ gradients have no entry for the
            // fused sparse op
            Operand<TInt32> labels = tf.reshape(tf.dtypes.cast(y, TInt32.class), tf.constant(new int[] {-1}));
            Operand<TFloat32> oneHot = tf.oneHot(labels, tf.constant(s.outputs()), tf.constant(1f), tf.constant(0f));
            Operand<TFloat32> picked = tf.reduceSum(tf.math.mul(oneHot, tf.nn.logSoftmax(h)), tf.constant(1));
            loss = tf.withName("loss").math.neg(tf.math.mean(picked, tf.constant(0)));
        } else {
            // half the mean squared error, as DJL's L2 loss
            loss = tf.withName("loss").math.mul(tf.constant(0.5f),
                    tf.math.mean(tf.math.square(tf.math.sub(h, y)), tf.constant(new int[] {0, 1})));
        }
        return new Model(s, g, tf, x, y, loss);
    }

    /**
     * @param graph the graph
     * @return a session with one thread, as the benchmarks run TensorFlow
     */
    public static Session session(Graph graph) {
        return new Session(graph, org.tensorflow.proto.ConfigProto.newBuilder()
                .setIntraOpParallelismThreads(1).setInterOpParallelismThreads(1).build());
    }

    /**
     * @param s a TensorFlow set-up
     * @return its data (the same generator as the DJL half)
     */
    public static ScenarioData data(Setup s) {
        return FamilyData.make(s, new Random(s.seed()));
    }

    /** One batch's tensors. */
    public record Batch(TFloat32 x, TFloat32 y) implements AutoCloseable {
        /**
         * Feeds the batch.
         *
         * @param session the session
         * @param m the model
         * @return a runner with both placeholders fed
         */
        public Session.Runner feed(Session session, Model m) {
            return session.runner().feed(m.x, x).feed(m.y, y);
        }

        @Override
        public void close() {
            x.close();
            y.close();
        }
    }

    /**
     * The training batch of a step.
     *
     * @param s the set-up
     * @param d its data
     * @param step the step
     * @return the tensors; close them
     */
    public static Batch batch(Setup s, ScenarioData d, int step) {
        return slice(d.trainX(), d.trainY(), s.features(), (int) d.trainYShape().get(1), step * s.batchSize(), s.batchSize());
    }

    private static Batch slice(float[] xs, float[] ys, int f, int yDims, int from, int rows) {
        float[] bx = new float[rows * f];
        float[] by = new float[rows * yDims];
        System.arraycopy(xs, from * f, bx, 0, bx.length);
        System.arraycopy(ys, from * yDims, by, 0, by.length);
        return new Batch(TFloat32.tensorOf(Shape.of(rows, f), DataBuffers.of(bx)),
                TFloat32.tensorOf(Shape.of(rows, yDims), DataBuffers.of(by)));
    }

    /**
     * The loss on the clean evaluation set.
     *
     * @param s the set-up
     * @param d its data
     * @param session the session
     * @param m the model
     * @return the evaluation loss
     */
    public static float evaluate(Setup s, ScenarioData d, Session session, Model m) {
        int rows = (int) d.evalYShape().get(0);
        try (Batch b = slice(d.evalX(), d.evalY(), s.features(), (int) d.evalYShape().get(1), 0, rows);
                Result r = b.feed(session, m).fetch(m.loss).run()) {
            return ((TFloat32) r.get(0)).getFloat();
        }
    }

    /**
     * Trains one unguarded run.
     *
     * @param s the set-up
     * @param d its data
     * @param lr the learning rate
     * @return the final evaluation loss
     */
    public static float trainUnguarded(Setup s, ScenarioData d, float lr) {
        try (Model m = build(s)) {
            Optimizer opt = optimizer(s, m.graph, lr);
            org.tensorflow.op.Op train = opt.minimize(m.loss, "train");
            try (Session session = session(m.graph)) {
                for (int step = 0; step < s.steps(); step++) {
                    try (Batch b = batch(s, d, step)) {
                        b.feed(session, m).addTarget(train).run().close();
                    }
                }
                return evaluate(s, d, session, m);
            }
        }
    }

    /**
     * The oracle: the best point of an unguarded grid in factors of 2 around the nominal rate, searched like
     * the DJL half's {@link io.gradguard.models.family.OracleSearch}.
     *
     * @param s the set-up
     * @param d its data
     * @return {oracle learning rate, its loss}
     */
    public static float[] oracle(Setup s, ScenarioData d) {
        OracleSearch.Result r = OracleSearch.search(nominalLr(s), lr -> trainUnguarded(s, d, lr));
        return new float[] {r.lr(), r.loss()};
    }

    /**
     * @param s a set-up
     * @param d its data
     * @return the constant predictor's evaluation loss
     */
    public static double constantLoss(Setup s, ScenarioData d) {
        return FamilyData.constantLoss(s, d);
    }

    /**
     * The seeds' TensorFlow set-ups.
     *
     * @param seeds seeds
     * @return their set-ups
     */
    public static List<Setup> draw(List<Long> seeds) {
        List<Setup> out = new ArrayList<>();
        seeds.forEach(s -> out.add(draw(s)));
        return out;
    }
}
