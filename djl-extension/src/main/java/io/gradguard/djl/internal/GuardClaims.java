package io.gradguard.djl.internal;

import io.gradguard.core.internal.WeakClaims;

/**
 * Which guard owns a trainer, so that a trainer is guarded once: the agent claims trainers as they are
 * created, and a guard the application wired itself ({@code GradGuardListener}, {@code DjlGuard}) takes
 * them over; the agent then steps aside. Trainers are held weakly ({@link WeakClaims}).
 */
public final class GuardClaims {

    private static final WeakClaims<Object, Object> OWNERS = new WeakClaims<>();

    private GuardClaims() {}

    /**
     * Claims a trainer if nobody owns it yet.
     *
     * @param trainer the trainer
     * @param owner the claiming guard
     * @return true when {@code owner} owns the trainer now
     */
    public static boolean claim(Object trainer, Object owner) {
        return OWNERS.claim(trainer, owner);
    }

    /**
     * Takes a trainer over, whoever owned it.
     *
     * @param trainer the trainer
     * @param owner the new owner
     */
    public static void takeOver(Object trainer, Object owner) {
        OWNERS.put(trainer, owner);
    }

    /**
     * @param trainer the trainer
     * @return its owner, or null
     */
    public static Object owner(Object trainer) {
        return OWNERS.get(trainer);
    }

    /**
     * Releases a trainer if {@code owner} holds it.
     *
     * @param trainer the trainer
     * @param owner the owner
     */
    public static void release(Object trainer, Object owner) {
        OWNERS.release(trainer, owner);
    }
}
