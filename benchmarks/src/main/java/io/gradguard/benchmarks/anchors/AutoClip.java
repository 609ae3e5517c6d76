package io.gradguard.benchmarks.anchors;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * AutoClip (Seetharaman, Wichern, Pardo, Le Roux, "AutoClip: Adaptive Gradient Clipping for Source
 * Separation Networks", MLSP 2020): every step, append the observed global norm to the history of all
 * norms seen so far and clip to the p-th percentile of that history (p = 10), as the authors' code does
 * ({@code grad_history.append(norm); clip_value = np.percentile(grad_history, p)}). Like
 * {@code np.percentile} (linear interpolation), one NaN in the history makes every later threshold NaN.
 */
public final class AutoClip implements NormRule {

    private final double percentile;
    private final List<Double> sorted = new ArrayList<>();
    private boolean sawNaN;

    /** @param percentile p, in [0, 100] */
    public AutoClip(double percentile) {
        this.percentile = percentile;
    }

    @Override
    public double maxNorm(double norm) {
        if (Double.isNaN(norm)) {
            sawNaN = true;
        } else {
            int at = Collections.binarySearch(sorted, norm);
            sorted.add(at >= 0 ? at : -at - 1, norm);
        }
        if (sawNaN || sorted.isEmpty()) {
            return Double.NaN;
        }
        double rank = percentile / 100.0 * (sorted.size() - 1);
        int lo = (int) Math.floor(rank);
        int hi = Math.min(lo + 1, sorted.size() - 1);
        double lv = sorted.get(lo);
        double hv = sorted.get(hi);
        if (Double.isInfinite(lv) || Double.isInfinite(hv)) {
            return rank - lo == 0 ? lv : hv; // numpy: inf with interpolation weight 0 stays inf
        }
        return lv + (rank - lo) * (hv - lv);
    }

    @Override
    public String key() {
        return "autoclip-p" + (int) percentile;
    }
}
