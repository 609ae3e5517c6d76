package io.gradguard.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;

/** A {@link Canvas} that draws on a Java2D image (headless), for the PNG. */
final class ImageCanvas implements Canvas {

    private final BufferedImage image;
    private final Graphics2D g;

    ImageCanvas(int width, int height) {
        image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
    }

    private static Color color(String css) {
        if (css.startsWith("#") && css.length() == 7) {
            return new Color(Integer.parseInt(css.substring(1), 16));
        }
        if (css.startsWith("rgb(")) {
            String[] p = css.substring(4, css.length() - 1).split(",");
            return new Color(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()), Integer.parseInt(p[2].trim()));
        }
        return Color.BLACK;
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, String c, double width, boolean dashed) {
        g.setColor(color(c));
        g.setStroke(dashed ? new BasicStroke((float) width, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                new float[] {4f, 3f}, 0f) : new BasicStroke((float) width));
        g.draw(new Line2D.Double(x1, y1, x2, y2));
    }

    @Override
    public void polyline(double[] xs, double[] ys, String c, double width) {
        g.setColor(color(c));
        g.setStroke(new BasicStroke((float) width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        Path2D.Double p = new Path2D.Double();
        boolean open = false;
        for (int i = 0; i < xs.length; i++) {
            if (Double.isNaN(xs[i]) || Double.isNaN(ys[i])) {
                open = false;
                continue;
            }
            if (open) {
                p.lineTo(xs[i], ys[i]);
            } else {
                p.moveTo(xs[i], ys[i]);
                open = true;
            }
        }
        g.draw(p);
    }

    @Override
    public void rect(double x, double y, double w, double h, String fill, String stroke) {
        Rectangle2D.Double r = new Rectangle2D.Double(x, y, w, h);
        if (fill != null) {
            g.setColor(color(fill));
            g.fill(r);
        }
        if (stroke != null) {
            g.setColor(color(stroke));
            g.setStroke(new BasicStroke(1f));
            g.draw(r);
        }
    }

    @Override
    public void circle(double x, double y, double r, String fill) {
        g.setColor(color(fill));
        g.fill(new Ellipse2D.Double(x - r, y - r, 2 * r, 2 * r));
    }

    @Override
    public void text(double x, double y, String s, int size, String c, String anchor) {
        g.setColor(color(c));
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, size));
        int w = g.getFontMetrics().stringWidth(s);
        double dx = "middle".equals(anchor) ? -w / 2.0 : "end".equals(anchor) ? -w : 0;
        g.drawString(s, (float) (x + dx), (float) y);
    }

    BufferedImage finish() {
        g.dispose();
        return image;
    }
}
