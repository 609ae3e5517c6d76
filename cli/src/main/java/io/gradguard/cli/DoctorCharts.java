package io.gradguard.cli;

import java.util.List;
import java.util.Locale;
import java.util.function.DoubleUnaryOperator;

/**
 * The structure doctor's two charts, drawn on any {@link Canvas}: the gradient flow per weight layer before and after
 * the chosen fix, and the trials' loss curves.
 */
final class DoctorCharts {

    /** The model as it is. */
    static final String BEFORE = Charts.SKIP;
    /** The chosen trial's model, and the chosen trial's curve. */
    static final String AFTER = Charts.NORM;
    /** The other trials' colours, by rank. */
    static final String[] PALETTE = {"#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
        "#bcbd22", "#17becf"};
    private static final int LEFT = 70;
    private static final int TOP = 40;
    private static final int PLOT_H = 240;
    private static final int ROW = 18;

    private DoctorCharts() {}

    /** @return the flow chart's height */
    static int flowHeight() {
        return TOP + PLOT_H + 50 + 2 * ROW + 10;
    }

    /**
     * @param r a record
     * @return the trial chart's height (a legend row per trial)
     */
    static int trialsHeight(DoctorRecord r) {
        return TOP + PLOT_H + 44 + ROW * r.trials().size() + 10;
    }

    /**
     * Per weight layer (input side on the left), the backward signal (the RMS of the loss's gradient at the layer's
     * output) before and after the chosen fix, log scale; the weight gradients' norm where the record has no signal.
     */
    static void flow(Canvas c, int width, DoctorRecord r) {
        boolean signal = r.before().hasSignal() && r.after().hasSignal();
        double[] before = signal ? r.before().signal() : gradNorms(r.before());
        double[] after = signal ? r.after().signal() : gradNorms(r.after());
        c.text(LEFT, 22, (signal ? "Backward signal per weight layer (RMS of the loss's gradient at its output)"
                : "Weight gradient norm per layer") + ", log scale: before and after " + r.chosen().name(), 13,
                "#222222", "start");
        double w = width - LEFT - 20;
        c.rect(LEFT, TOP, w, PLOT_H, "#ffffff", "#cccccc");
        int n = Math.max(1, Math.max(before.length, after.length));
        double[] range = logRange(before, after);
        DoubleUnaryOperator sy = logAxis(c, LEFT, TOP, w, PLOT_H, range[0], range[1]);
        DoubleUnaryOperator sx = i -> LEFT + (i + 0.5) / n * w;
        List<DoctorRecord.Layer> names = r.before().layers().size() >= r.after().layers().size() ? r.before().layers()
                : r.after().layers();
        int every = Math.max(1, (int) Math.ceil(n * 80.0 / w));
        for (int i = 0; i < names.size(); i += every) {
            String b = names.get(i).block();
            c.text(sx.applyAsDouble(i), TOP + PLOT_H + 16, b.length() > 12 ? b.substring(0, 11) + "…" : b, 10,
                    Charts.AXIS, "middle");
        }
        c.text(LEFT, TOP + PLOT_H + 32, "input side", 11, Charts.AXIS, "start");
        c.text(LEFT + w, TOP + PLOT_H + 32, "output side (weight layers in model order)", 11, Charts.AXIS, "end");
        series(c, before, sx, sy, BEFORE, "before", names);
        series(c, after, sx, sy, AFTER, "after", names);
        double y = TOP + PLOT_H + 56;
        legendRow(c, LEFT, y, BEFORE, "before (the model as it is): " + trend(r.before()));
        legendRow(c, LEFT, y + ROW, AFTER, "after (" + r.chosen().name() + "): " + trend(r.after()));
    }

    /**
     * The training loss per step of every trial, log scale, one line per trial; the chosen one thick and green; a
     * diverged trial's first non-finite step marked in red above the plot.
     */
    static void trials(Canvas c, int width, DoctorRecord r) {
        c.text(LEFT, 22, "Trial curves: training loss per trial step, log scale (same seed, same batches); the"
                + " chosen trial thick; red marks above: where a trial diverged", 13, "#222222", "start");
        double w = width - LEFT - 20;
        c.rect(LEFT, TOP, w, PLOT_H, "#ffffff", "#cccccc");
        int steps = 1;
        double[][] curves = new double[r.trials().size()][];
        for (int k = 0; k < curves.length; k++) {
            curves[k] = r.trials().get(k).losses();
            steps = Math.max(steps, curves[k].length);
        }
        double[] range = logRange(curves);
        DoubleUnaryOperator sy = logAxis(c, LEFT, TOP, w, PLOT_H, range[0], range[1]);
        int last = steps;
        DoubleUnaryOperator sx = s -> LEFT + (last == 1 ? 0.5 : (s - 1) / (last - 1)) * w;
        int tick = Math.max(1, (int) Math.pow(10, Math.floor(Math.log10(Math.max(1, steps / 4.0)))));
        if (steps / tick > 10) {
            tick *= steps / tick > 20 ? 5 : 2;
        }
        for (int s = 1; s <= steps; s = s == 1 && tick > 1 ? tick : s + tick) {
            double x = sx.applyAsDouble(s);
            c.line(x, TOP + PLOT_H, x, TOP + PLOT_H + 4, Charts.AXIS, 1, false);
            c.text(x, TOP + PLOT_H + 16, Integer.toString(s), 11, Charts.AXIS, "middle");
        }
        c.text(LEFT + w, TOP + PLOT_H + 30, "trial step", 11, Charts.AXIS, "end");
        String chosen = r.chosen().name();
        int chosenIndex = -1;
        for (int k = curves.length - 1; k >= 0; k--) { // the best on top: drawn last
            DoctorRecord.Trial t = r.trials().get(k);
            if (t.name().equals(chosen)) {
                chosenIndex = k;
                continue;
            }
            curve(c, t, curves[k], sx, sy, PALETTE[k % PALETTE.length], 1.3, (int) w);
        }
        if (chosenIndex >= 0) {
            curve(c, r.trials().get(chosenIndex), curves[chosenIndex], sx, sy, AFTER, 3, (int) w);
        }
        double y = TOP + PLOT_H + 50;
        for (int k = 0; k < curves.length; k++) {
            DoctorRecord.Trial t = r.trials().get(k);
            String end = t.diverged() ? "diverged at step " + t.losses().length : "final loss " + DoctorText.num(t.finalLoss());
            legendRow(c, LEFT, y + ROW * k, t.name().equals(chosen) ? AFTER : PALETTE[k % PALETTE.length],
                    String.format(Locale.ROOT, "%d. %s, lr %s: %s%s", t.rank(), t.name(), DoctorText.num(t.learningRate()),
                            end, t.name().equals(chosen) ? "   (chosen)" : ""));
        }
    }

    private static void curve(Canvas c, DoctorRecord.Trial t, double[] ys, DoubleUnaryOperator sx, DoubleUnaryOperator sy,
            String color, double width, int columns) {
        double[] xs = new double[ys.length];
        for (int i = 0; i < ys.length; i++) {
            xs[i] = i + 1;
        }
        double[][] xy = Charts.downsample(xs, ys, Math.max(50, columns), true, sx, sy);
        c.polyline(xy[0], xy[1], color, width);
        for (int i = 0; i < xy[0].length; i++) {
            boolean alone = !Double.isNaN(xy[1][i]) && (i == 0 || Double.isNaN(xy[1][i - 1]))
                    && (i == xy[0].length - 1 || Double.isNaN(xy[1][i + 1]));
            if (alone) {
                c.circle(xy[0][i], xy[1][i], width + 1, color); // a finite step between non-finite ones
            }
        }
        for (int i = 0; i < ys.length; i++) {
            if (!Double.isFinite(ys[i])) {
                double x = sx.applyAsDouble(i + 1);
                c.line(x, TOP - 6, x, TOP + 2, Charts.SKIP, 2, false);
                c.title(t.name() + ": loss " + ys[i] + " at step " + (i + 1));
                break;
            }
        }
    }

    private static void series(Canvas c, double[] v, DoubleUnaryOperator sx, DoubleUnaryOperator sy, String color,
            String label, List<DoctorRecord.Layer> names) {
        double[] px = new double[v.length];
        double[] py = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            boolean ok = Double.isFinite(v[i]) && v[i] > 0;
            px[i] = sx.applyAsDouble(i);
            py[i] = ok ? sy.applyAsDouble(v[i]) : Double.NaN;
        }
        c.polyline(px, py, color, 1.8);
        for (int i = 0; i < v.length; i++) {
            if (Double.isNaN(py[i])) {
                c.line(px[i], TOP - 6, px[i], TOP + 2, Charts.SKIP, 2, false);
            } else {
                c.circle(px[i], py[i], 3, color);
            }
            c.title(label + ", " + (i < names.size() ? names.get(i).block() : "layer " + i) + ": " + v[i]);
        }
    }

    private static void legendRow(Canvas c, double x, double y, String color, String text) {
        c.line(x, y - 4, x + 22, y - 4, color, 3, false);
        c.text(x + 30, y, text, 12, Charts.AXIS, "start");
    }

    private static String trend(DoctorRecord.Flow f) {
        return "x" + DoctorText.num(f.gradGrowthPerLayer()) + " per layer towards the input, x"
                + DoctorText.num(f.gradCompound()) + " over the depth; " + (f.firstOutOfRange() == null ? "all in range"
                : "first out of range " + f.firstOutOfRange());
    }

    private static double[] gradNorms(DoctorRecord.Flow f) {
        return f.layers().stream().mapToDouble(DoctorRecord.Layer::gradNorm).toArray();
    }

    /** @return whole decades around every finite positive value: {lo, hi} */
    private static double[] logRange(double[]... series) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double[] s : series) {
            for (double v : s) {
                if (Double.isFinite(v) && v > 0) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (lo == Double.POSITIVE_INFINITY) {
            return new double[] {1e-3, 1};
        }
        lo = Math.pow(10, Math.floor(Math.log10(lo)));
        hi = Math.pow(10, Math.ceil(Math.log10(hi) + 1e-9));
        return new double[] {lo, hi > lo ? hi : lo * 10};
    }

    /** Draws the decade grid and ticks; returns the value-to-y map. */
    private static DoubleUnaryOperator logAxis(Canvas c, double x0, double y0, double w, double h, double lo, double hi) {
        DoubleUnaryOperator sy = v -> y0 + h - (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) * h;
        int decades = (int) Math.round(Math.log10(hi / lo));
        int every = Math.max(1, decades / 6);
        for (int d = 0; d <= decades; d += every) {
            double v = lo * Math.pow(10, d);
            double y = sy.applyAsDouble(v);
            c.line(x0, y, x0 + w, y, Charts.GRID, 1, false);
            c.text(x0 - 6, y + 4, Charts.tick(v), 11, Charts.AXIS, "end");
        }
        return sy;
    }
}
