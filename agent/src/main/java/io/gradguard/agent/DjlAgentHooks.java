package io.gradguard.agent;

import ai.djl.ndarray.NDArray;
import ai.djl.training.Trainer;
import io.gradguard.core.Action;
import io.gradguard.core.Decision;
import io.gradguard.djl.GradGuardDivergedException;
import io.gradguard.djl.internal.DjlGuardSession;
import io.gradguard.djl.internal.GuardClaims;
import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The agent's DJL logic, called from the advice through {@link AgentDispatch}: one
 * {@link DjlGuardSession} per trainer, the same code the listener and the loop guard use. The loss comes
 * from {@code GradientCollector.backward}'s argument. A trainer that the application guards itself is
 * left to that guard. Any internal error disables the guard for that trainer with one warning; the
 * only exception that reaches the app is the deliberate halt.
 */
final class DjlAgentHooks implements AgentDispatch.Hooks {

    private static final int MAX_PENDING_LOSSES = 16;

    private final AgentConfig config;
    private final long installMs;
    // A holder refers to its trainer (through its session). Held strongly here, it would keep a trainer the application
    // never closes, which DJL's finalizer would otherwise close and free, in memory for good. So this map holds holders
    // weakly, and the trainer holds its own: its parameter server is the session's gate, which keeps the holder alive
    // (DjlGuardSession.keepAliveWithTrainer). Until that gate exists (once the trainer is initialized), or when it
    // cannot be put in place, the holder is pinned here; closing the trainer unpins it.
    private final Map<Object, WeakReference<Holder>> trainers = Collections.synchronizedMap(new WeakHashMap<>());
    private final Map<Object, Holder> pinned = Collections.synchronizedMap(new WeakHashMap<>());
    private final ThreadLocal<Deque<NDArray>> losses = ThreadLocal.withInitial(ArrayDeque::new);
    private final AtomicInteger created;

    /** Per-trainer state. */
    private static final class Holder {
        DjlGuardSession session;
        Throwable pendingHalt;
        boolean disabled;
        boolean anchored;
    }

    DjlAgentHooks(AgentConfig config, long installMs) {
        this(config, installMs, new AtomicInteger());
    }

    /**
     * @param config the agent's configuration
     * @param installMs the agent's installation time, for the log header
     * @param created the count of trainers guarded so far in this JVM, which numbers their logs (shared by the
     *     guards of every class loader's DJL, so that two of them never write the same log)
     */
    DjlAgentHooks(AgentConfig config, long installMs, AtomicInteger created) {
        this.config = config;
        this.installMs = installMs;
        this.created = created;
    }

    /**
     * The guard of a DJL outside the system class loader, called reflectively by {@link DjlHooksRouter} on this
     * class as a {@link GuardClassLoader} defined it: the configuration is read again from the same sources,
     * because this loader's configuration classes are not the installer's.
     *
     * @param args the agent arguments
     * @param installMs the agent's installation time
     * @param created the JVM-wide count of guarded trainers
     * @return the hooks
     */
    static AgentDispatch.Hooks forLoader(String args, long installMs, AtomicInteger created) {
        return new DjlAgentHooks(AgentConfig.read(args, System.getProperties(), System.getenv()), installMs, created);
    }

    private Holder holder(Object trainer) {
        synchronized (trainers) {
            Holder h = held(trainer);
            if (h == null) {
                h = track(trainer);
                start((Trainer) trainer, h);
            }
            if (!h.anchored && h.session != null && h.session.keepAliveWithTrainer(h)) {
                h.anchored = true;
                pinned.remove(trainer);
            }
            return h;
        }
    }

    /** @return the trainer's holder, or null */
    private Holder held(Object trainer) {
        WeakReference<Holder> r = trainers.get(trainer);
        return r == null ? null : r.get();
    }

    /** A new holder for the trainer, pinned until its trainer holds it. */
    private Holder track(Object trainer) {
        Holder h = new Holder();
        trainers.put(trainer, new WeakReference<>(h));
        pinned.put(trainer, h);
        return h;
    }

    private void start(Trainer trainer, Holder h) {
        if (!GuardClaims.claim(trainer, h)) {
            h.disabled = true; // the application's own GradGuardListener or DjlGuard guards it
            return;
        }
        h.session = new DjlGuardSession(config.guardForRun(created.incrementAndGet()), "agent");
        h.session.putHeader("agent_install_ms", installMs);
        h.session.prepare(trainer, true);
    }

    @Override
    public void trainerCreated(Object trainer) {
        try {
            holder(trainer);
        } catch (Throwable t) {
            fail(trainer, t);
        }
    }

    @Override
    public boolean beforeStep(Object trainer) {
        Holder h = null;
        try {
            h = holder(trainer);
            NDArray loss = takeLoss();
            if (io.gradguard.djl.LrFinder.running()) {
                return false; // a learning-rate sweep: it restores everything itself
            }
            if (h.disabled || GuardClaims.owner(trainer) != h) {
                return false;
            }
            Decision d = h.session.inspect((Trainer) trainer, loss);
            if (d.action() == Action.ABORT) {
                h.pendingHalt = new GradGuardDivergedException(h.session.steps() - 1, d.reason(), h.session.guard().diagnosis());
                return true;
            }
            h.session.carryOut(d, false);
            return !d.applies();
        } catch (GradGuardDivergedException e) {
            if (h != null) {
                h.pendingHalt = e;
            }
            return true;
        } catch (Throwable t) {
            fail(trainer, t);
            return false;
        }
    }

    private NDArray takeLoss() {
        Deque<NDArray> q = losses.get();
        NDArray chosen = null;
        while (!q.isEmpty()) {
            NDArray l = q.pollFirst();
            if (!l.isReleased()) {
                // with several device splits, the last one stands for the step
                chosen = l;
            }
        }
        return chosen;
    }

    @Override
    public Throwable takeHalt(Object trainer) {
        Holder h = held(trainer);
        if (h == null || h.pendingHalt == null) {
            return null;
        }
        Throwable t = h.pendingHalt;
        h.pendingHalt = null;
        return t;
    }

    @Override
    public void backward(Object loss) {
        if (loss instanceof NDArray a) {
            Deque<NDArray> q = losses.get();
            if (q.size() >= MAX_PENDING_LOSSES) {
                q.pollFirst();
            }
            q.addLast(a);
        }
    }

    @Override
    public void trainerClosed(Object trainer) {
        WeakReference<Holder> r = trainers.remove(trainer);
        pinned.remove(trainer);
        Holder h = r == null ? null : r.get();
        if (h != null && h.session != null) {
            try {
                h.session.close();
            } catch (Throwable t) {
                System.err.println("GradGuard agent: closing the guard failed (" + t + ")");
            }
            GuardClaims.release(trainer, h);
        }
        losses.remove();
    }

    /**
     * Turns the guard off for one trainer after an internal error: one line on stderr, and the session's own
     * fail-open path, which also disarms a clip or skip already armed on the trainer's gated parameter server
     * (the agent has no after-step hook, so an armed scale would otherwise stay on every later step).
     */
    void fail(Object trainer, Throwable t) {
        Holder h;
        synchronized (trainers) {
            h = held(trainer);
            if (h == null) {
                h = track(trainer);
            }
        }
        if (!h.disabled) {
            h.disabled = true;
            System.err.println("GradGuard agent: internal error, this trainer runs unguarded from now on: " + t);
            if (h.session != null) {
                h.session.disable(t instanceof RuntimeException re ? re : new IllegalStateException(t));
            }
        }
    }
}
