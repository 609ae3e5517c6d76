package io.gradguard.models.family;

import ai.djl.ndarray.types.Shape;
import io.gradguard.models.ScenarioData;
import io.gradguard.models.family.Setup.Task;
import java.util.Random;

/**
 * The data of a generated set-up: fresh training rows for every step (one pass, no epochs) and a clean
 * evaluation set, all from the set-up's seed. Every task is learnable by construction (a teacher or a
 * template decides the label) and has a known constant-predictor loss, the level a collapsed run sits at.
 */
public final class FamilyData {

    /** Rows of the evaluation set. */
    public static final int EVAL_ROWS = 512;

    private static final int TEACHER_HIDDEN = 32;

    private FamilyData() {}

    /**
     * Makes the data.
     *
     * @param s the set-up
     * @param rng the seeded source
     * @return the data
     */
    public static ScenarioData make(Setup s, Random rng) {
        int rows = s.steps() * s.batchSize();
        return switch (s.task()) {
            case REGRESSION, CLASSIFICATION -> s.arch() == Setup.Arch.CONV ? images(s, rows, rng) : tabular(s, rows, rng);
            case SEQUENCE_REGRESSION -> decayingSum(s, rows, rng);
            case SEQUENCE_CLASSIFICATION -> sequenceClasses(s, rows, rng);
        };
    }

    /**
     * The loss of the best constant prediction on the evaluation labels: half the mean variance of the
     * targets for the L2 loss, the entropy of the label frequencies for cross-entropy.
     *
     * @param s the set-up
     * @param data its data
     * @return the constant-predictor loss
     */
    public static double constantLoss(Setup s, ScenarioData data) {
        float[] y = data.evalY();
        if (s.task().classification()) {
            int[] counts = new int[s.outputs()];
            for (float v : y) {
                counts[(int) v]++;
            }
            double h = 0;
            for (int c : counts) {
                if (c > 0) {
                    double p = (double) c / y.length;
                    h -= p * Math.log(p);
                }
            }
            return h;
        }
        int dims = (int) data.evalYShape().get(1);
        int n = y.length / dims;
        double total = 0;
        for (int d = 0; d < dims; d++) {
            double mean = 0;
            for (int r = 0; r < n; r++) {
                mean += y[r * dims + d];
            }
            mean /= n;
            double var = 0;
            for (int r = 0; r < n; r++) {
                double e = y[r * dims + d] - mean;
                var += e * e;
            }
            total += var / n;
        }
        // DJL's L2 loss is half the mean squared error
        return 0.5 * total / dims;
    }

    private static float[] gaussians(int n, Random rng) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rng.nextGaussian();
        }
        return a;
    }

    /** A random tanh teacher: {@code out = scale * W2 tanh(W1 x)}. */
    private static final class Teacher {
        final int in;
        final int out;
        final float[] w1;
        final float[] w2;

        Teacher(int in, int out, Random rng) {
            this.in = in;
            this.out = out;
            w1 = gaussians(in * TEACHER_HIDDEN, rng);
            w2 = gaussians(TEACHER_HIDDEN * out, rng);
        }

        void apply(float[] x, int off, double scale, double[] dst) {
            double[] h = new double[TEACHER_HIDDEN];
            for (int j = 0; j < TEACHER_HIDDEN; j++) {
                double a = 0;
                for (int i = 0; i < in; i++) {
                    a += x[off + i] * w1[i * TEACHER_HIDDEN + j];
                }
                h[j] = Math.tanh(a / Math.sqrt(in));
            }
            for (int o = 0; o < out; o++) {
                double v = 0;
                for (int j = 0; j < TEACHER_HIDDEN; j++) {
                    v += h[j] * w2[j * out + o];
                }
                dst[o] = scale * v / Math.sqrt(TEACHER_HIDDEN);
            }
        }
    }

    private static ScenarioData tabular(Setup s, int rows, Random rng) {
        int f = s.features();
        boolean cls = s.task() == Task.CLASSIFICATION;
        Teacher teacher = new Teacher(f, s.outputs(), rng);
        int yDims = cls ? 1 : s.outputs();
        float[][] parts = new float[4][];
        int[] counts = {rows, EVAL_ROWS};
        for (int part = 0; part < 2; part++) {
            int n = counts[part];
            float[] x = gaussians(n * f, rng);
            float[] y = new float[n * yDims];
            double[] out = new double[s.outputs()];
            for (int r = 0; r < n; r++) {
                teacher.apply(x, r * f, cls ? 4.0 : 2.0, out);
                if (cls) {
                    y[r] = argmaxWithNoise(out, rng);
                } else {
                    for (int o = 0; o < yDims; o++) {
                        y[r * yDims + o] = (float) (out[o] + 0.05 * rng.nextGaussian());
                    }
                }
            }
            parts[2 * part] = x;
            parts[2 * part + 1] = y;
        }
        return new ScenarioData(parts[0], new Shape(rows, f), parts[1], new Shape(rows, yDims),
                parts[2], new Shape(EVAL_ROWS, f), parts[3], new Shape(EVAL_ROWS, yDims));
    }

    /** The label: argmax of the teacher's logits with a little Gumbel noise (a few labels flip near ties). */
    private static float argmaxWithNoise(double[] logits, Random rng) {
        int best = 0;
        double bestV = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < logits.length; c++) {
            double u = Math.max(rng.nextDouble(), 1e-12);
            double v = logits[c] - 0.3 * Math.log(-Math.log(u));
            if (v > bestV) {
                bestV = v;
                best = c;
            }
        }
        return best;
    }

    private static ScenarioData images(Setup s, int rows, Random rng) {
        int c = s.features();
        int side = s.length();
        int px = c * side * side;
        int k = s.outputs();
        // one smooth template per class, unit variance per pixel; an image is its template under noise,
        // shifted by up to one pixel
        float[][] templates = new float[k][];
        for (int t = 0; t < k; t++) {
            float[] raw = gaussians(px, rng);
            float[] smooth = new float[px];
            double sq = 0;
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < side; i++) {
                    for (int j = 0; j < side; j++) {
                        double sum = 0;
                        for (int di = -1; di <= 1; di++) {
                            for (int dj = -1; dj <= 1; dj++) {
                                int ii = Math.floorMod(i + di, side);
                                int jj = Math.floorMod(j + dj, side);
                                sum += raw[(ch * side + ii) * side + jj];
                            }
                        }
                        smooth[(ch * side + i) * side + j] = (float) sum;
                        sq += sum * sum;
                    }
                }
            }
            double norm = Math.sqrt(sq / px);
            for (int i = 0; i < px; i++) {
                smooth[i] /= (float) norm;
            }
            templates[t] = smooth;
        }
        float[][] parts = new float[4][];
        int[] counts = {rows, EVAL_ROWS};
        for (int part = 0; part < 2; part++) {
            int n = counts[part];
            float[] x = new float[n * px];
            float[] y = new float[n];
            for (int r = 0; r < n; r++) {
                int label = rng.nextInt(k);
                y[r] = label;
                int si = rng.nextInt(3) - 1;
                int sj = rng.nextInt(3) - 1;
                float[] t = templates[label];
                for (int ch = 0; ch < c; ch++) {
                    for (int i = 0; i < side; i++) {
                        for (int j = 0; j < side; j++) {
                            int src = (ch * side + Math.floorMod(i + si, side)) * side + Math.floorMod(j + sj, side);
                            x[r * px + (ch * side + i) * side + j] = (float) (t[src] + 2.5 * rng.nextGaussian());
                        }
                    }
                }
            }
            parts[2 * part] = x;
            parts[2 * part + 1] = y;
        }
        return new ScenarioData(parts[0], new Shape(rows, c, side, side), parts[1], new Shape(rows, 1),
                parts[2], new Shape(EVAL_ROWS, c, side, side), parts[3], new Shape(EVAL_ROWS, 1));
    }

    /**
     * Sequence regression: the target is a tanh of a decaying sum over the sequence ({@code 0.8} per step,
     * later steps weigh more) of a random projection of each step's features.
     */
    private static ScenarioData decayingSum(Setup s, int rows, Random rng) {
        int len = s.length();
        int f = s.features();
        float[] a = gaussians(f, rng);
        float[][] parts = new float[4][];
        int[] counts = {rows, EVAL_ROWS};
        for (int part = 0; part < 2; part++) {
            int n = counts[part];
            float[] x = gaussians(n * len * f, rng);
            float[] y = new float[n];
            for (int r = 0; r < n; r++) {
                double sum = 0;
                for (int t = 0; t < len; t++) {
                    double p = 0;
                    for (int i = 0; i < f; i++) {
                        p += a[i] * x[(r * len + t) * f + i];
                    }
                    sum = 0.8 * sum + p / Math.sqrt(f);
                }
                y[r] = (float) (2.0 * Math.tanh(0.6 * sum) + 0.05 * rng.nextGaussian());
            }
            parts[2 * part] = x;
            parts[2 * part + 1] = y;
        }
        return new ScenarioData(parts[0], new Shape(rows, len, f), parts[1], new Shape(rows, 1),
                parts[2], new Shape(EVAL_ROWS, len, f), parts[3], new Shape(EVAL_ROWS, 1));
    }

    /** k classes from a teacher readout of the sequence, later steps weighing more (decay 0.8 per step). */
    private static ScenarioData sequenceClasses(Setup s, int rows, Random rng) {
        int len = s.length();
        int f = s.features();
        int k = s.outputs();
        int h = 16;
        float[] u = gaussians(f * h, rng);
        float[] v = gaussians(h * k, rng);
        float[][] parts = new float[4][];
        int[] counts = {rows, EVAL_ROWS};
        for (int part = 0; part < 2; part++) {
            int n = counts[part];
            float[] x = gaussians(n * len * f, rng);
            float[] y = new float[n];
            double[] state = new double[h];
            double[] logits = new double[k];
            for (int r = 0; r < n; r++) {
                java.util.Arrays.fill(state, 0);
                for (int t = 0; t < len; t++) {
                    for (int j = 0; j < h; j++) {
                        double a = 0;
                        for (int i = 0; i < f; i++) {
                            a += x[(r * len + t) * f + i] * u[i * h + j];
                        }
                        state[j] = 0.8 * state[j] + Math.tanh(a / Math.sqrt(f));
                    }
                }
                for (int c = 0; c < k; c++) {
                    double a = 0;
                    for (int j = 0; j < h; j++) {
                        a += state[j] * v[j * k + c];
                    }
                    logits[c] = 2.0 * a / Math.sqrt(h);
                }
                y[r] = argmaxWithNoise(logits, rng);
            }
            parts[2 * part] = x;
            parts[2 * part + 1] = y;
        }
        return new ScenarioData(parts[0], new Shape(rows, len, f), parts[1], new Shape(rows, 1),
                parts[2], new Shape(EVAL_ROWS, len, f), parts[3], new Shape(EVAL_ROWS, 1));
    }
}
