package io.gradguard.cli;

import java.util.Locale;

/** A {@link Canvas} that writes an inline SVG element. */
final class SvgCanvas implements Canvas {

    private final StringBuilder sb = new StringBuilder();
    private final int width;
    private final int height;

    SvgCanvas(int width, int height, String label) {
        this.width = width;
        this.height = height;
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
                + " role=\"img\" aria-label=\"%s\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n", width, height, width, height,
                Html.escape(label)));
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, String color, double width, boolean dashed) {
        sb.append("<line x1=\"").append(f(x1)).append("\" y1=\"").append(f(y1)).append("\" x2=\"").append(f(x2))
                .append("\" y2=\"").append(f(y2)).append("\" stroke=\"").append(color).append("\" stroke-width=\"")
                .append(f(width)).append('"').append(dashed ? " stroke-dasharray=\"4 3\"" : "").append("/>\n");
    }

    @Override
    public void polyline(double[] xs, double[] ys, String color, double width) {
        StringBuilder pts = new StringBuilder();
        for (int i = 0; i <= xs.length; i++) {
            boolean gap = i == xs.length || Double.isNaN(xs[i]) || Double.isNaN(ys[i]);
            if (gap) {
                if (pts.length() > 0) {
                    sb.append("<polyline fill=\"none\" stroke=\"").append(color).append("\" stroke-width=\"").append(f(width))
                            .append("\" stroke-linejoin=\"round\" points=\"").append(pts).append("\"/>\n");
                    pts.setLength(0);
                }
                continue;
            }
            pts.append(f(xs[i])).append(',').append(f(ys[i])).append(' ');
        }
    }

    @Override
    public void rect(double x, double y, double w, double h, String fill, String stroke) {
        sb.append("<rect x=\"").append(f(x)).append("\" y=\"").append(f(y)).append("\" width=\"").append(f(w))
                .append("\" height=\"").append(f(h)).append("\" fill=\"").append(fill == null ? "none" : fill).append('"')
                .append(stroke == null ? "" : " stroke=\"" + stroke + "\"").append("/>\n");
    }

    @Override
    public void circle(double x, double y, double r, String fill) {
        sb.append("<circle cx=\"").append(f(x)).append("\" cy=\"").append(f(y)).append("\" r=\"").append(f(r))
                .append("\" fill=\"").append(fill).append("\"/>\n");
    }

    @Override
    public void text(double x, double y, String s, int size, String color, String anchor) {
        sb.append("<text x=\"").append(f(x)).append("\" y=\"").append(f(y)).append("\" font-size=\"").append(size)
                .append("\" fill=\"").append(color).append("\" text-anchor=\"").append(anchor).append("\">")
                .append(Html.escape(s)).append("</text>\n");
    }

    @Override
    public void title(String s) {
        // attach a tooltip to the last element: turn "<x .../>" into "<x ...><title>..</title></x>"
        int end = sb.lastIndexOf("/>");
        int start = sb.lastIndexOf("<", end);
        if (end < 0 || start < 0) {
            return;
        }
        String tag = sb.substring(start + 1, sb.indexOf(" ", start));
        sb.replace(end, end + 2, "><title>" + Html.escape(s) + "</title></" + tag + ">");
    }

    String finish() {
        return sb + "</svg>\n";
    }

    int width() {
        return width;
    }

    int height() {
        return height;
    }
}
