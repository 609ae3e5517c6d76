package io.gradguard.models;

import java.lang.ref.Reference;
import java.util.List;

/** For leak tests: whether objects the test has let go of are garbage. */
public final class Reachability {

    private static final int ROUNDS = 20;

    private Reachability() {}

    /**
     * Collects, runs pending finalizers (DJL's {@code Trainer} and {@code Model} have finalizers, so a closed trainer
     * and what it refers to outlive the first collection after it) and waits a little, up to {@value #ROUNDS} rounds,
     * until every reference is cleared.
     *
     * @param refs references to the objects that should be garbage
     * @return true when all of them were cleared
     * @throws InterruptedException if interrupted while waiting
     */
    public static boolean collected(List<? extends Reference<?>> refs) throws InterruptedException {
        for (int i = 0; i < ROUNDS && refs.stream().anyMatch(r -> r.get() != null); i++) {
            System.gc();
            System.runFinalization();
            Thread.sleep(20);
        }
        return refs.stream().allMatch(r -> r.get() == null);
    }
}
