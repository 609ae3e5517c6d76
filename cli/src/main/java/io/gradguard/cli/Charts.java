package io.gradguard.cli;

import io.gradguard.core.Action;
import io.gradguard.core.event.LayerRecord;
import io.gradguard.core.event.StepRecord;
import io.gradguard.log.RunLog;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The report's charts, drawn on any {@link Canvas}. */
final class Charts {

    static final String LOSS = "#1f77b4";
    static final String NORM = "#2ca02c";
    static final String CLIP = "#ff7f0e";
    static final String SKIP = "#d62728";
    static final String ROLLBACK = "#9467bd";
    static final String ABORT = "#000000";
    static final String LR = "#17becf";
    static final String GRID = "#e5e5e5";
    static final String AXIS = "#555555";
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int MAX_MARKS = 3000;

    private Charts() {}

    /** One line of a panel. */
    record Series(String name, String color, double[] values) {}

    /** The run's steps as columns. */
    record Columns(double[] step, double[] loss, double[] norm, double[] coef, double[] lrScale, Action[] action) {
        static Columns of(RunLog log) {
            List<StepRecord> s = log.steps();
            int n = s.size();
            Columns c = new Columns(new double[n], new double[n], new double[n], new double[n], new double[n], new Action[n]);
            for (int i = 0; i < n; i++) {
                StepRecord r = s.get(i);
                c.step[i] = r.step();
                c.loss[i] = r.loss();
                c.norm[i] = r.gradNorm();
                c.coef[i] = r.clipCoef();
                c.lrScale[i] = r.lrScale();
                c.action[i] = r.action();
            }
            return c;
        }

        double min() {
            return step.length == 0 ? 0 : step[0];
        }

        double max() {
            return step.length == 0 ? 1 : Math.max(step[step.length - 1], step[0] + 1);
        }
    }

    /** The main chart: loss and gradient norm (log scale) with the guard's actions; optionally the scales panel. */
    static void main(Canvas c, int width, Columns cols, boolean scales) {
        double w = width - LEFT - RIGHT;
        panel(c, LEFT, 30, w, 210, "Loss (log scale)", cols, List.of(new Series("loss", LOSS, cols.loss)), true, false);
        panel(c, LEFT, 290, w, 210, "Global gradient norm before clipping (log scale)", cols,
                List.of(new Series("gradient norm", NORM, cols.norm)), true, true);
        if (scales) {
            panel(c, LEFT, 550, w, 150, "Clip coefficient (1 = not clipped, 0 = update skipped) and learning-rate scale", cols,
                    List.of(new Series("clip coefficient", CLIP, cols.coef), new Series("learning-rate scale", LR, cols.lrScale)),
                    false, false);
        }
        legend(c, LEFT, scales ? 735 : 535);
    }

    static int mainHeight(boolean scales) {
        return scales ? 750 : 550;
    }

    private static void legend(Canvas c, double x, double y) {
        String[][] items = {{"clip", CLIP}, {"skip", SKIP}, {"rollback", ROLLBACK}, {"abort", ABORT}};
        c.text(x, y, "Actions:", 12, AXIS, "start");
        double at = x + 60;
        for (String[] it : items) {
            if (it[0].equals("rollback") || it[0].equals("abort")) {
                c.line(at, y - 10, at, y + 2, it[1], 2, it[0].equals("rollback"));
            } else {
                c.circle(at, y - 4, 4, it[1]);
            }
            c.text(at + 8, y, it[0], 12, AXIS, "start");
            at += 90;
        }
        c.text(at + 10, y, "non-finite values are drawn as red marks above the plot", 12, AXIS, "start");
    }

    private static void panel(Canvas c, double x0, double y0, double w, double h, String title, Columns cols,
            List<Series> series, boolean log, boolean markPoints) {
        c.text(x0, y0 - 8, title, 13, "#222222", "start");
        c.rect(x0, y0, w, h, "#ffffff", "#cccccc");
        double xmin = cols.min();
        double xmax = cols.max();
        double ymin = Double.POSITIVE_INFINITY;
        double ymax = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (double v : s.values()) {
                if (Double.isFinite(v) && (!log || v > 0)) {
                    ymin = Math.min(ymin, v);
                    ymax = Math.max(ymax, v);
                }
            }
        }
        if (!log) {
            ymin = 0;
            ymax = Math.max(1.05, ymax * 1.05);
        } else if (ymin == Double.POSITIVE_INFINITY) {
            ymin = 1e-3;
            ymax = 1;
        } else {
            ymin = Math.pow(10, Math.floor(Math.log10(ymin)));
            ymax = Math.pow(10, Math.ceil(Math.log10(ymax) + 1e-9));
            if (ymax <= ymin) {
                ymax = ymin * 10;
            }
        }
        final double lo = ymin;
        final double hi = ymax;
        java.util.function.DoubleUnaryOperator sy = log
                ? v -> y0 + h - (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) * h
                : v -> y0 + h - (v - lo) / (hi - lo) * h;
        java.util.function.DoubleUnaryOperator sx = v -> x0 + (v - xmin) / (xmax - xmin) * w;
        // grid and y ticks
        if (log) {
            int decades = (int) Math.round(Math.log10(hi / lo));
            int every = Math.max(1, decades / 6);
            for (int d = 0; d <= decades; d += every) {
                double v = lo * Math.pow(10, d);
                double y = sy.applyAsDouble(v);
                c.line(x0, y, x0 + w, y, GRID, 1, false);
                c.text(x0 - 6, y + 4, tick(v), 11, AXIS, "end");
            }
        } else {
            for (double v = 0; v <= hi + 1e-9; v += 0.25) {
                double y = sy.applyAsDouble(v);
                c.line(x0, y, x0 + w, y, GRID, 1, false);
                c.text(x0 - 6, y + 4, String.format(Locale.ROOT, "%.2f", v), 11, AXIS, "end");
            }
        }
        // x ticks
        double span = xmax - xmin;
        double stepTick = Math.pow(10, Math.floor(Math.log10(span / 5)));
        if (span / stepTick > 10) {
            stepTick *= span / stepTick > 20 ? 5 : 2;
        }
        for (double v = Math.ceil(xmin / stepTick) * stepTick; v <= xmax; v += stepTick) {
            double x = sx.applyAsDouble(v);
            c.line(x, y0 + h, x, y0 + h + 4, AXIS, 1, false);
            c.text(x, y0 + h + 16, String.format(Locale.ROOT, "%.0f", v), 11, AXIS, "middle");
        }
        c.text(x0 + w, y0 + h + 30, "step", 11, AXIS, "end");
        // rollbacks and aborts: vertical lines
        int marks = 0;
        for (int i = 0; i < cols.action().length && marks < MAX_MARKS; i++) {
            Action a = cols.action()[i];
            if (a == Action.ROLLBACK || a == Action.ABORT) {
                double x = sx.applyAsDouble(cols.step()[i]);
                c.line(x, y0, x, y0 + h, a == Action.ROLLBACK ? ROLLBACK : ABORT, a == Action.ABORT ? 2 : 1.2, a == Action.ROLLBACK);
                c.title(a.key() + " at step " + (long) cols.step()[i]);
                marks++;
            }
        }
        // lines (min/max per pixel column, so spikes survive downsampling)
        for (Series s : series) {
            double[][] xy = downsample(cols.step(), s.values(), (int) Math.max(50, w), log, sx, sy);
            c.polyline(xy[0], xy[1], s.color(), 1.4);
            for (int i = 0; i < xy[0].length; i++) {
                boolean alone = !Double.isNaN(xy[1][i]) && (i == 0 || Double.isNaN(xy[1][i - 1]))
                        && (i == xy[0].length - 1 || Double.isNaN(xy[1][i + 1]));
                if (alone) {
                    c.circle(xy[0][i], xy[1][i], 2.5, s.color()); // a finite value between non-finite ones
                }
            }
        }
        // non-finite values: red marks above the plot
        for (Series s : series) {
            if (java.util.Arrays.stream(s.values()).allMatch(Double::isNaN)) {
                c.text(x0 + w / 2, y0 + h / 2, s.name() + " not recorded", 13, AXIS, "middle");
                continue;
            }
            int shown = 0;
            for (int i = 0; i < s.values().length && shown < MAX_MARKS; i++) {
                if (!Double.isFinite(s.values()[i])) {
                    double x = sx.applyAsDouble(cols.step()[i]);
                    c.line(x, y0 - 4, x, y0 + 2, SKIP, 2, false);
                    c.title(s.name() + " " + s.values()[i] + " at step " + (long) cols.step()[i]);
                    shown++;
                }
            }
        }
        // clip / skip points on the gradient panel
        if (markPoints) {
            int shown = 0;
            for (int i = 0; i < cols.action().length && shown < MAX_MARKS; i++) {
                Action a = cols.action()[i];
                if (a == Action.CLIP || a == Action.SKIP) {
                    double v = cols.norm()[i];
                    double y = Double.isFinite(v) && v > 0 ? Math.max(y0, Math.min(y0 + h, sy.applyAsDouble(v))) : y0;
                    c.circle(sx.applyAsDouble(cols.step()[i]), y, 3, a == Action.CLIP ? CLIP : SKIP);
                    c.title(a.key() + " at step " + (long) cols.step()[i] + ", gradient norm " + v
                            + (a == Action.CLIP ? ", coefficient " + tick(cols.coef()[i]) : ""));
                    shown++;
                }
            }
        }
    }

    /** Keeps the smallest and largest finite value of each pixel column, in step order. */
    static double[][] downsample(double[] xs, double[] ys, int columns, boolean log,
            java.util.function.DoubleUnaryOperator sx, java.util.function.DoubleUnaryOperator sy) {
        List<double[]> pts = new ArrayList<>();
        if (xs.length <= 2L * columns) {
            for (int i = 0; i < xs.length; i++) {
                boolean ok = Double.isFinite(ys[i]) && (!log || ys[i] > 0);
                pts.add(new double[] {sx.applyAsDouble(xs[i]), ok ? sy.applyAsDouble(ys[i]) : Double.NaN});
            }
        } else {
            double x0 = xs[0];
            double span = Math.max(1e-9, xs[xs.length - 1] - x0);
            int i = 0;
            for (int col = 0; col < columns && i < xs.length; col++) {
                double end = x0 + span * (col + 1) / columns;
                int lo = -1;
                int hi = -1;
                boolean gap = false;
                int first = i;
                while (i < xs.length && (xs[i] <= end || col == columns - 1)) {
                    boolean ok = Double.isFinite(ys[i]) && (!log || ys[i] > 0);
                    if (!ok) {
                        gap = true;
                    } else {
                        if (lo < 0 || ys[i] < ys[lo]) {
                            lo = i;
                        }
                        if (hi < 0 || ys[i] > ys[hi]) {
                            hi = i;
                        }
                    }
                    i++;
                }
                if (i == first) {
                    continue;
                }
                if (gap && lo < 0) {
                    pts.add(new double[] {Double.NaN, Double.NaN});
                    continue;
                }
                int a = Math.min(lo, hi);
                int b = Math.max(lo, hi);
                pts.add(new double[] {sx.applyAsDouble(xs[a]), sy.applyAsDouble(ys[a])});
                if (b != a) {
                    pts.add(new double[] {sx.applyAsDouble(xs[b]), sy.applyAsDouble(ys[b])});
                }
            }
        }
        double[][] out = new double[2][pts.size()];
        for (int k = 0; k < pts.size(); k++) {
            out[0][k] = pts.get(k)[0];
            out[1][k] = pts.get(k)[1];
        }
        return out;
    }

    static int heatmapHeight(RunLog log) {
        int rows = log.layers().isEmpty() ? 0 : log.layers().get(0).names().size();
        return 80 + Math.max(120, Math.min(rows * 14, 900));
    }

    /** Per-parameter gradient norms over the sampled steps: rows = parameters in model order, colour = log10 norm. */
    static void heatmap(Canvas c, int width, RunLog log) {
        List<LayerRecord> recs = log.layers();
        if (recs.isEmpty()) {
            c.text(LEFT, 40, "No per-layer records in this log (layers.every=0?).", 13, AXIS, "start");
            return;
        }
        List<String> names = recs.get(0).names();
        int rows = names.size();
        int labelW = 190;
        double x0 = labelW;
        double y0 = 30;
        double w = width - labelW - 120;
        double h = Math.max(120, Math.min(rows * 14, 900));
        int stride = Math.max(1, (int) Math.ceil(recs.size() / (w / 3)));
        List<LayerRecord> cols = new ArrayList<>();
        for (int i = 0; i < recs.size(); i += stride) {
            cols.add(recs.get(i));
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (LayerRecord r : cols) {
            for (double v : r.gradNorms()) {
                if (Double.isFinite(v) && v > 0) {
                    lo = Math.min(lo, Math.log10(v));
                    hi = Math.max(hi, Math.log10(v));
                }
            }
        }
        if (lo > hi) {
            lo = 0;
            hi = 1;
        }
        if (hi - lo < 1e-9) {
            hi = lo + 1;
        }
        c.text(x0, y0 - 10, "Per-parameter gradient norm (log10 colour scale) at each sampled step: input side at the top",
                13, "#222222", "start");
        double cw = w / cols.size();
        double rh = h / rows;
        for (int j = 0; j < cols.size(); j++) {
            LayerRecord r = cols.get(j);
            for (int i = 0; i < rows && i < r.gradNorms().length; i++) {
                double v = r.gradNorms()[i];
                String fill = Double.isFinite(v) && v > 0 ? viridis((Math.log10(v) - lo) / (hi - lo)) : "#ff0000";
                c.rect(x0 + j * cw, y0 + i * rh, Math.max(cw, 1) + 0.3, Math.max(rh, 1) + 0.3, fill, null);
                if (cols.size() * rows <= 20000) {
                    c.title(names.get(i) + " at step " + r.step() + ": " + v);
                }
            }
        }
        c.rect(x0, y0, w, h, null, "#999999");
        if (rh >= 7) {
            for (int i = 0; i < rows; i++) {
                String n = names.get(i);
                c.text(x0 - 6, y0 + i * rh + rh / 2 + 4, n.length() > 28 ? n.substring(0, 27) + "…" : n, (int) Math.min(11, rh), AXIS, "end");
            }
        } else {
            c.text(x0 - 6, y0 + 12, rows + " parameters", 11, AXIS, "end");
        }
        int ticks = Math.min(8, cols.size());
        for (int t = 0; t < ticks; t++) {
            int j = (int) Math.round(t * (cols.size() - 1) / (double) Math.max(1, ticks - 1));
            c.text(x0 + j * cw + cw / 2, y0 + h + 16, Long.toString(cols.get(j).step()), 11, AXIS, "middle");
        }
        c.text(x0 + w, y0 + h + 30, "step", 11, AXIS, "end");
        // colour bar
        double bx = x0 + w + 30;
        for (int k = 0; k < 50; k++) {
            c.rect(bx, y0 + h - (k + 1) * h / 50, 14, h / 50 + 0.5, viridis(k / 49.0), null);
        }
        c.text(bx + 18, y0 + 10, tick(Math.pow(10, hi)), 11, AXIS, "start");
        c.text(bx + 18, y0 + h, tick(Math.pow(10, lo)), 11, AXIS, "start");
        c.rect(bx, y0 + h + 24, 14, 10, "#ff0000", null);
        c.text(bx + 18, y0 + h + 33, "non-finite", 11, AXIS, "start");
    }

    /** An approximation of matplotlib's viridis colour map. */
    static String viridis(double t) {
        double[][] stops = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
        t = Math.max(0, Math.min(1, t));
        double p = t * (stops.length - 1);
        int i = Math.min(stops.length - 2, (int) Math.floor(p));
        double f = p - i;
        int r = (int) Math.round(stops[i][0] + f * (stops[i + 1][0] - stops[i][0]));
        int g = (int) Math.round(stops[i][1] + f * (stops[i + 1][1] - stops[i][1]));
        int b = (int) Math.round(stops[i][2] + f * (stops[i + 1][2] - stops[i][2]));
        return String.format(Locale.ROOT, "#%02x%02x%02x", r, g, b);
    }

    static String tick(double v) {
        if (v == 0) {
            return "0";
        }
        double a = Math.abs(v);
        if (a >= 1e4 || a < 1e-2) {
            // 1e+05 -> 1e5
            return String.format(Locale.ROOT, "%.0e", v).replace("e+0", "e").replace("e-0", "e-").replace("e+", "e");
        }
        return new java.math.BigDecimal(String.format(Locale.ROOT, "%.3g", v)).stripTrailingZeros().toPlainString();
    }
}
