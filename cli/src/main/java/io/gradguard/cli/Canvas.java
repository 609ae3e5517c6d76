package io.gradguard.cli;

/**
 * What the charts draw on: an SVG document for the HTML page, a Java2D image for the PNG. The charts
 * are written once against this interface, so the page and the PNG show the same picture.
 */
interface Canvas {

    /** A straight line; {@code dashed} draws it dashed. */
    void line(double x1, double y1, double x2, double y2, String color, double width, boolean dashed);

    /** A polyline; a NaN coordinate breaks it into separate pieces. */
    void polyline(double[] xs, double[] ys, String color, double width);

    /** A rectangle; a null fill or stroke is not drawn. */
    void rect(double x, double y, double w, double h, String fill, String stroke);

    /** A filled circle. */
    void circle(double x, double y, double r, String fill);

    /** Text; {@code anchor} is {@code start}, {@code middle} or {@code end}. */
    void text(double x, double y, String s, int size, String color, String anchor);

    /** A tooltip for the most recently drawn element (SVG only; ignored elsewhere). */
    default void title(String s) {}
}
