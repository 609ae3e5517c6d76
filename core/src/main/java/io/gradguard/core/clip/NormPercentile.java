package io.gradguard.core.clip;

import java.util.Arrays;

/**
 * A percentile of the last {@code capacity} gradient norms, as AutoClip (Seetharaman et al., 2020) clips at, but over
 * a bounded window: memory and the cost of a step stay fixed however long the run is. The values are kept sorted
 * beside a ring of their arrival order, so adding one (and dropping the oldest) is a binary search and an array
 * shift, and a percentile is a lookup. The percentile interpolates linearly between the two nearest ranks, as
 * {@code numpy.percentile} does. Non-finite values are not kept.
 */
public final class NormPercentile {

    private final double[] ring;
    private final double[] sorted;
    private int size;
    private int next;

    /**
     * @param capacity the number of most recent values kept, at least 1
     * @throws IllegalArgumentException when {@code capacity} is below 1
     */
    public NormPercentile(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, but was " + capacity);
        }
        ring = new double[capacity];
        sorted = new double[capacity];
    }

    /**
     * Adds a value; when the window is full, the oldest value leaves it. Non-finite values are ignored.
     *
     * @param v a norm
     */
    public void add(double v) {
        if (!Double.isFinite(v)) {
            return;
        }
        if (size == ring.length) {
            double old = ring[next];
            int at = Arrays.binarySearch(sorted, 0, size, old);
            System.arraycopy(sorted, at + 1, sorted, at, size - at - 1);
            size--;
        }
        ring[next] = v;
        next = (next + 1) % ring.length;
        int at = Arrays.binarySearch(sorted, 0, size, v);
        int insert = at >= 0 ? at : -at - 1;
        System.arraycopy(sorted, insert, sorted, insert + 1, size - insert);
        sorted[insert] = v;
        size++;
    }

    /** @return how many values the window holds */
    public int count() {
        return size;
    }

    /**
     * @param p the percentile, in [0, 100]
     * @return the p-th percentile of the values held (linear between ranks); NaN when there are none
     * @throws IllegalArgumentException when {@code p} is outside [0, 100]
     */
    public double percentile(double p) {
        if (!(p >= 0 && p <= 100)) {
            throw new IllegalArgumentException("percentile must be in [0, 100], but was " + p);
        }
        if (size == 0) {
            return Double.NaN;
        }
        double rank = p / 100.0 * (size - 1);
        int lo = (int) Math.floor(rank);
        int hi = Math.min(lo + 1, size - 1);
        return sorted[lo] + (rank - lo) * (sorted[hi] - sorted[lo]);
    }

    /** Forgets every value. */
    public void clear() {
        size = 0;
        next = 0;
    }
}
