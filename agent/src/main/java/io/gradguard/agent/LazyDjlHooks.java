package io.gradguard.agent;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Stands in for {@link DjlAgentHooks} until the application first calls a DJL hook, for the reason
 * given on {@link LazyTfHooks}: the installer's background thread must not load engine classes (a class
 * the application thread is loading at that moment, parked in the deferred transformer, would make both
 * threads wait on each other until the transformer's time-out).
 */
final class LazyDjlHooks extends LazyHooks<AgentDispatch.Hooks> implements AgentDispatch.Hooks {

    private final AgentConfig config;
    private final long installMs;
    private final AtomicInteger created;

    LazyDjlHooks(AgentConfig config, long installMs, AtomicInteger created) {
        this.config = config;
        this.installMs = installMs;
        this.created = created;
    }

    @Override
    AgentDispatch.Hooks create() {
        return new DjlAgentHooks(config, installMs, created);
    }

    @Override
    public void trainerCreated(Object trainer) {
        real().trainerCreated(trainer);
    }

    @Override
    public boolean beforeStep(Object trainer) {
        return real().beforeStep(trainer);
    }

    @Override
    public Throwable takeHalt(Object trainer) {
        AgentDispatch.Hooks r = madeOrNull();
        return r == null ? null : r.takeHalt(trainer);
    }

    @Override
    public void backward(Object loss) {
        real().backward(loss);
    }

    @Override
    public void trainerClosed(Object trainer) {
        AgentDispatch.Hooks r = madeOrNull();
        if (r != null) {
            r.trainerClosed(trainer);
        }
    }
}
