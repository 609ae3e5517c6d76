package io.gradguard.core.diagnose;

import java.util.TreeSet;

/**
 * Which learning-rate scales were stable: a scale counts when the run held it (or more) for
 * {@value #WINDOW} healthy steps in a row, no clip, no spike, no skip; and only while it stays below every
 * scale at which instability showed later, clipped or not. "The largest stable rate" in the guard's halt
 * message and in the diagnosis is this, and never a rate that held only because its spikes were clipped.
 */
public final class StableScales {

    /** Healthy steps in a row that make a scale stable. */
    public static final int WINDOW = 50;

    private final TreeSet<Double> held = new TreeSet<>();
    private double ceiling = Double.POSITIVE_INFINITY;
    private int streak;
    private double streakMin = Double.POSITIVE_INFINITY;

    /**
     * One step.
     *
     * @param healthy whether it was applied unclipped with finite numbers and no spike
     * @param scale the learning-rate scale it ran at
     */
    public void step(boolean healthy, double scale) {
        if (!healthy) {
            streak = 0;
            streakMin = Double.POSITIVE_INFINITY;
            return;
        }
        streak++;
        streakMin = Math.min(streakMin, scale);
        if (streak >= WINDOW) {
            held.add(streakMin);
        }
    }

    /**
     * Instability showed at a scale: no scale at or above it is stable.
     *
     * @param scale the scale in force
     */
    public void unstable(double scale) {
        ceiling = Math.min(ceiling, scale);
    }

    /** @return the largest stable scale below 1 (the user's own rate), or NaN when none */
    public double largest() {
        Double s = held.lower(Math.min(ceiling, 1.0));
        return s == null ? Double.NaN : s;
    }

    /** @return the lowest scale at which instability showed, +infinity when none did */
    public double ceiling() {
        return ceiling;
    }
}
