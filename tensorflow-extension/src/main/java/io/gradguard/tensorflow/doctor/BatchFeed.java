package io.gradguard.tensorflow.doctor;

import org.tensorflow.Session;

/**
 * Feeds one batch into a runner of the user's session, for the doctor's checks: the placeholders the
 * loss needs (inputs, targets), nothing else. A feed must not add a train op as a target: the checks
 * measure the graph at its current values and never apply an update.
 *
 * <pre>{@code
 * BatchFeed batch = runner -> runner.feed(x, xs).feed(y, ys);
 * }</pre>
 */
@FunctionalInterface
public interface BatchFeed {

    /**
     * Adds the batch's feeds to a runner.
     *
     * @param runner a fresh runner of the session the check runs in; the check's own fetches are already on it
     * @return the runner (this one or the one its {@code feed} calls returned)
     */
    Session.Runner feed(Session.Runner runner);
}
