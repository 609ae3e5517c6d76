package io.gradguard.agent;

/**
 * Stands in for {@link TfAgentHooks} until the application itself first calls a TensorFlow hook. The
 * installer's background thread installs it without touching any TensorFlow class: a class that thread
 * loaded would escape instrumentation, and a hook installed only after the transformer was released
 * would miss the application's first {@code minimize}.
 */
final class LazyTfHooks extends LazyHooks<AgentDispatch.TfHooks> implements AgentDispatch.TfHooks {

    private final AgentConfig config;

    LazyTfHooks(AgentConfig config) {
        this.config = config;
    }

    @Override
    AgentDispatch.TfHooks create() {
        return new TfAgentHooks(config);
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
        AgentDispatch.TfHooks r = madeOrNull();
        // no guarded train op can exist before the first applyGradients
        return r == null ? null : r.beforeRun(runner);
    }

    @Override
    public Throwable afterRun(Object runner, Object pending, Object result, Throwable thrown) {
        AgentDispatch.TfHooks r = madeOrNull();
        return r == null ? null : r.afterRun(runner, pending, result, thrown);
    }
}
