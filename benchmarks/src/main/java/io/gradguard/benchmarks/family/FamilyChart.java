package io.gradguard.benchmarks.family;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The family's picture: each exploding twin's final loss over its oracle's, against its learning-rate
 * multiplier, for no guard, a fixed clip at 1.0 and GradGuard {@code auto}, with a running median per
 * policy. A guard that works draws a flat line at 1. Failures sit on the top band.
 */
final class FamilyChart {

    private static final int W = 760;
    private static final int H = 420;
    private static final int LEFT = 64;
    private static final int RIGHT = 150;
    private static final int TOP = 36;
    private static final int BOTTOM = 48;
    private static final double X0 = 2;
    private static final double X1 = 100;
    private static final double Y0 = 0.5;
    private static final double Y1 = 100;
    private static final String[][] SERIES = {
        {"none", "#9a9a9a", "no guard"},
        {"fixed-norm-1.0", "#e8871e", "fixed clip 1.0"},
        {FamilyReport.AUTO, "#1f5fbf", "GradGuard auto"}
    };

    private FamilyChart() {}

    static double x(double m) {
        return LEFT + (Math.log(m) - Math.log(X0)) / (Math.log(X1) - Math.log(X0)) * (W - LEFT - RIGHT);
    }

    static double y(double r) {
        double top = TOP + 14;
        if (Double.isInfinite(r) || r > Y1) {
            return TOP + 4;
        }
        double c = Math.max(r, Y0);
        return top + (Math.log(Y1) - Math.log(c)) / (Math.log(Y1) - Math.log(Y0)) * (H - BOTTOM - top);
    }

    static String svg(FamilyReport report, String split) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n", W, H, W, H));
        sb.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"20\" font-size=\"14\" font-weight=\"bold\">Final loss over the"
                + " oracle's, %d exploding set-ups (%s split)</text>%n", LEFT, report.setups(), split));
        for (double r : new double[] {0.5, 1, 2, 5, 10, 100}) {
            double yy = y(r);
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>%n", LEFT,
                    W - RIGHT, yy, yy, r == 1 ? "#444" : "#e4e4e4"));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%sx</text>%n", LEFT - 6, yy + 4,
                    r < 1 ? "0.5" : String.valueOf((int) r)));
        }
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#b00\">failed</text>%n",
                LEFT - 6, TOP + 8));
        for (double m : new double[] {2, 5, 10, 20, 50, 100}) {
            double xx = x(m);
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#e4e4e4\"/>%n", xx, xx,
                    TOP + 14, H - BOTTOM));
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%dx</text>%n", xx,
                    H - BOTTOM + 16, (int) m));
        }
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">learning rate over the oracle's"
                + " (the exploding twin's multiplier)</text>%n", (LEFT + W - RIGHT) / 2, H - 12));
        for (int k = 0; k < SERIES.length; k++) {
            String policy = SERIES[k][0];
            String color = SERIES[k][1];
            List<double[]> pts = new ArrayList<>();
            for (Map<String, FamilyRow> row : report.exploding().values()) {
                FamilyRow r = row.get(policy);
                if (r != null) {
                    pts.add(new double[] {r.multiplier(), r.ratio()});
                }
            }
            for (double[] p : pts) {
                double jitter = (k - 1) * 2.5;
                sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\" fill-opacity=\"0.55\"/>%n",
                        x(p[0]) + jitter, y(p[1]), color));
            }
            // running median over log-spaced windows of the multiplier
            StringBuilder path = new StringBuilder();
            for (int i = 0; i <= 20; i++) {
                double m = Math.exp(Math.log(X0) + i / 20.0 * (Math.log(X1) - Math.log(X0)));
                List<Double> near = new ArrayList<>();
                for (double[] p : pts) {
                    if (Math.abs(Math.log(p[0]) - Math.log(m)) <= Math.log(2.2) / 2) {
                        near.add(p[1]);
                    }
                }
                if (near.size() >= 3) {
                    path.append(path.length() == 0 ? "M" : " L").append(String.format(Locale.ROOT, "%.1f %.1f", x(m),
                            y(FamilyReport.median(near))));
                }
            }
            if (path.length() > 0) {
                sb.append(String.format(Locale.ROOT, "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2.5\"/>%n", path,
                        color));
            }
            int ly = TOP + 30 + 22 * k;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2.5\"/>%n",
                    W - RIGHT + 12, W - RIGHT + 32, ly, ly, color));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", W - RIGHT + 38, ly + 4, SERIES[k][2]));
        }
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#555\">line: running median</text>%n",
                W - RIGHT + 12, TOP + 30 + 22 * SERIES.length));
        return sb.append("</svg>\n").toString();
    }
}
