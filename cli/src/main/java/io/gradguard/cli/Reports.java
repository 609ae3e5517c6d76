package io.gradguard.cli;

import io.gradguard.core.diagnose.RunDiagnosis;
import io.gradguard.log.RunLog;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The report as a library, for notebooks and applications: the same page and charts as
 * {@code gradguard report}.
 */
public final class Reports {

    private static final int DOCTOR_WIDTH = 1000;

    private Reports() {}

    /**
     * The main chart of a run: loss and global gradient norm over steps (log scale) with the guard's
     * actions marked.
     *
     * @param log a recorded event log
     * @return the chart
     * @throws IOException when the log cannot be read
     */
    public static BufferedImage chart(Path log) throws IOException {
        System.setProperty("java.awt.headless", "true");
        return HtmlReport.png(RunLog.read(log));
    }

    /**
     * Writes the self-contained HTML report of a run.
     *
     * @param log a recorded event log
     * @param html where to write the page
     * @return the diagnosis shown on the page
     * @throws IOException when the log cannot be read or the page written
     */
    public static RunDiagnosis html(Path log, Path html) throws IOException {
        RunLog run = RunLog.read(log);
        RunDiagnosis d = run.diagnose();
        Files.writeString(html, HtmlReport.html(run, d, "GradGuard report: " + log.getFileName()), StandardCharsets.UTF_8);
        return d;
    }

    /**
     * The structure doctor's gradient-flow chart: per weight layer, the backward signal (the RMS of the loss's
     * gradient at the layer's output; the weight gradient's norm where the record has none) before and after the
     * chosen fix, log scale.
     *
     * @param record the doctor's JSON record ({@code Doctor.builder().record(path)})
     * @return the chart
     * @throws IOException when the record cannot be read
     * @throws IllegalArgumentException naming the file when it is not a doctor record
     */
    public static BufferedImage doctorFlow(Path record) throws IOException {
        System.setProperty("java.awt.headless", "true");
        ImageCanvas c = new ImageCanvas(DOCTOR_WIDTH, DoctorCharts.flowHeight());
        DoctorCharts.flow(c, DOCTOR_WIDTH, DoctorRecord.read(record));
        return c.finish();
    }

    /**
     * The structure doctor's trial curves: the training loss per trial step (log scale), one line per trial, the
     * chosen one thick, with the ranking as the legend.
     *
     * @param record the doctor's JSON record
     * @return the chart
     * @throws IOException when the record cannot be read
     * @throws IllegalArgumentException naming the file when it is not a doctor record
     */
    public static BufferedImage doctorTrials(Path record) throws IOException {
        System.setProperty("java.awt.headless", "true");
        DoctorRecord r = DoctorRecord.read(record);
        ImageCanvas c = new ImageCanvas(DOCTOR_WIDTH, DoctorCharts.trialsHeight(r));
        DoctorCharts.trials(c, DOCTOR_WIDTH, r);
        return c.finish();
    }

    /**
     * The structure doctor's record as text, as {@code gradguard doctor} prints it: the prescription, the chosen
     * trial, the trials ranked, the budget used, the flow per layer before and after the chosen fix.
     *
     * @param record the doctor's JSON record
     * @return the text
     * @throws IOException when the record cannot be read
     * @throws IllegalArgumentException naming the file when it is not a doctor record
     */
    public static String doctorText(Path record) throws IOException {
        return DoctorText.of(DoctorRecord.read(record));
    }

    /**
     * Writes the self-contained HTML report of a run with the structure doctor's Structure section.
     *
     * @param log a recorded event log
     * @param record the doctor's JSON record
     * @param html where to write the page
     * @return the diagnosis shown on the page
     * @throws IOException when a file cannot be read or the page written
     * @throws IllegalArgumentException naming the file when the record is not a doctor record
     */
    public static RunDiagnosis html(Path log, Path record, Path html) throws IOException {
        DoctorRecord doctor = DoctorRecord.read(record);
        RunLog run = RunLog.read(log);
        RunDiagnosis d = run.diagnose();
        Files.writeString(html, HtmlReport.html(run, d, "GradGuard report: " + log.getFileName(), doctor),
                StandardCharsets.UTF_8);
        return d;
    }

    /**
     * A simple line chart (for a learning-rate range test's curve, say).
     *
     * @param title the title
     * @param xLabel the x axis's name
     * @param x the x values (positive when {@code logX})
     * @param y the y values; non-finite values break the line
     * @param logX whether the x axis is logarithmic
     * @param markX x positions to mark with a labelled vertical line (may be empty)
     * @param markLabels their labels
     * @return the chart
     */
    public static BufferedImage line(String title, String xLabel, double[] x, double[] y, boolean logX,
            double[] markX, List<String> markLabels) {
        System.setProperty("java.awt.headless", "true");
        int width = 900;
        int height = 380;
        ImageCanvas c = new ImageCanvas(width, height);
        double x0 = 70;
        double y0 = 40;
        double w = width - 100;
        double h = height - 100;
        c.text(x0, 24, title, 14, "#222222", "start");
        c.rect(x0, y0, w, h, "#ffffff", "#cccccc");
        double xmin = Double.POSITIVE_INFINITY;
        double xmax = Double.NEGATIVE_INFINITY;
        double ymin = Double.POSITIVE_INFINITY;
        double ymax = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < x.length; i++) {
            double xv = logX ? Math.log10(x[i]) : x[i];
            xmin = Math.min(xmin, xv);
            xmax = Math.max(xmax, xv);
            if (Double.isFinite(y[i])) {
                ymin = Math.min(ymin, y[i]);
                ymax = Math.max(ymax, y[i]);
            }
        }
        if (!(xmax > xmin)) {
            xmax = xmin + 1;
        }
        if (!(ymax > ymin)) {
            ymax = ymin + 1;
        }
        double fxmin = xmin;
        double fxmax = xmax;
        double fymin = ymin;
        double fymax = ymax;
        java.util.function.DoubleUnaryOperator sx = v -> x0 + ((logX ? Math.log10(v) : v) - fxmin) / (fxmax - fxmin) * w;
        java.util.function.DoubleUnaryOperator sy = v -> y0 + h - (v - fymin) / (fymax - fymin) * h;
        for (int t = 0; t <= 4; t++) {
            double v = ymin + t * (ymax - ymin) / 4;
            double yy = sy.applyAsDouble(v);
            c.line(x0, yy, x0 + w, yy, Charts.GRID, 1, false);
            c.text(x0 - 6, yy + 4, Charts.tick(v), 11, Charts.AXIS, "end");
        }
        if (logX) {
            for (int d = (int) Math.ceil(xmin); d <= Math.floor(xmax); d++) {
                double xx = sx.applyAsDouble(Math.pow(10, d));
                c.line(xx, y0, xx, y0 + h, Charts.GRID, 1, false);
                c.text(xx, y0 + h + 16, Charts.tick(Math.pow(10, d)), 11, Charts.AXIS, "middle");
            }
        } else {
            for (int t = 0; t <= 5; t++) {
                double v = xmin + t * (xmax - xmin) / 5;
                c.text(sx.applyAsDouble(v), y0 + h + 16, Charts.tick(v), 11, Charts.AXIS, "middle");
            }
        }
        c.text(x0 + w, y0 + h + 34, xLabel, 11, Charts.AXIS, "end");
        double[] px = new double[x.length];
        double[] py = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            px[i] = sx.applyAsDouble(x[i]);
            py[i] = Double.isFinite(y[i]) ? sy.applyAsDouble(y[i]) : Double.NaN;
        }
        c.polyline(px, py, Charts.LOSS, 1.6);
        for (int k = 0; k < markX.length; k++) {
            if (!Double.isFinite(markX[k]) || markX[k] <= 0 && logX) {
                continue;
            }
            double xx = sx.applyAsDouble(markX[k]);
            c.line(xx, y0, xx, y0 + h, k == 0 ? Charts.SKIP : Charts.ROLLBACK, 1.5, true);
            c.text(xx + 4, y0 + 14 + 14 * k, String.format(Locale.ROOT, "%s %s", markLabels.get(k), Charts.tick(markX[k])), 11,
                    k == 0 ? Charts.SKIP : Charts.ROLLBACK, "start");
        }
        return c.finish();
    }
}
