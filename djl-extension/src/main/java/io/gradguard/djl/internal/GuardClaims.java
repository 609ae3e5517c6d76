package io.gradguard.djl.internal;

import io.gradguard.core.internal.WeakClaims;

/**
 * Which guard owns a trainer, so that a trainer is guarded once: the agent claims trainers as they are
 * created, and a guard the application wired itself ({@code GradGuardListener}, {@code DjlGuard}) takes
 * them over; the agent then steps aside.
 *
 * <p>Trainers and owners are both held weakly ({@link WeakClaims#weakValues()}). An owner (a guard's session, the
 * agent's per-trainer holder) refers to its trainer, so an owner held strongly here would keep its trainer's key
 * alive, and with it the trainer, the guard and every array the guard holds, for the life of the JVM. Each owner is
 * kept alive by whoever uses it (the application holds its {@code DjlGuard}, the trainer its listener, the agent its
 * holders), which is as long as the claim means anything.
 */
public final class GuardClaims {

    private static final WeakClaims<Object, Object> OWNERS = WeakClaims.weakValues();

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
     * @return its owner, or null (never claimed, released, or the owner is gone)
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
