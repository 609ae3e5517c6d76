package io.gradguard.agent;

/**
 * Stands in for {@link TfAgentHooks} until the application itself first calls a TensorFlow hook. The
 * installer's background thread installs it without touching any TensorFlow class: a class that thread
 * loaded would escape instrumentation, and a hook installed only after the transformer was released
 * would miss the application's first {@code minimize}.
 */
final class LazyTfHooks implements AgentDispatch.TfHooks {

    private final AgentConfig config;
    private volatile AgentDispatch.TfHooks real;

    LazyTfHooks(AgentConfig config) {
        this.config = config;
    }

    private AgentDispatch.TfHooks real() {
        AgentDispatch.TfHooks r = real;
        if (r == null) {
            synchronized (this) {
                r = real;
                if (r == null) {
                    r = new TfAgentHooks(config);
                    real = r;
                }
            }
        }
        return r;
    }

    @Override
    public void computeGradients(Object optimizer, Object loss) {
        real().computeGradients(optimizer, loss);
    }

    @Override
    public Object applyGradients(Object optimizer, Object gradsAndVars, Object name) {
        return real().applyGradients(optimizer, gradsAndVars, name);
    }

    @Override
    public Object beforeRun(Object runner) {
        AgentDispatch.TfHooks r = real;
        // no guarded train op can exist before the first applyGradients
        return r == null ? null : r.beforeRun(runner);
    }

    @Override
    public Throwable afterRun(Object runner, Object pending, Object result, Throwable thrown) {
        AgentDispatch.TfHooks r = real;
        return r == null ? null : r.afterRun(runner, pending, result, thrown);
    }
}
