package io.gradguard.core.event;

/**
 * Totals of a run, published when the guard closes.
 *
 * @param steps steps seen
 * @param clipped steps clipped
 * @param skipped steps skipped
 * @param nonFinite steps with a non-finite loss or gradient
 * @param rollbacks rollbacks taken
 * @param lrScale the learning-rate scale at the end
 * @param halted whether the run was halted
 */
public record RunSummary(long steps, long clipped, long skipped, long nonFinite, long rollbacks, double lrScale,
        boolean halted) {

    /** @return true when the guard changed at least one step */
    public boolean intervened() {
        return clipped > 0 || skipped > 0 || rollbacks > 0 || halted;
    }

    @Override
    public String toString() {
        return steps + " steps, " + clipped + " clipped, " + skipped + " skipped (" + nonFinite
                + " non-finite), " + rollbacks + " rollbacks, final lr scale " + lrScale + (halted ? ", halted" : "");
    }
}
