package io.gradguard.agent;

/**
 * Makes an engine's real hooks on first use, once: the common part of {@link LazyDjlHooks} and
 * {@link LazyTfHooks}, which stand in for the real hooks until the application itself first calls one (see
 * {@link LazyTfHooks} for why). A named subclass rather than a factory lambda, so that installing one costs no
 * invokedynamic bootstrap on the installer's thread.
 *
 * @param <T> the hooks' type
 */
abstract class LazyHooks<T> {

    private volatile T real;

    /** @return new real hooks; called once, on the first application thread that needs them */
    abstract T create();

    /** @return the real hooks, made now if they were not made yet */
    final T real() {
        T r = real;
        if (r == null) {
            synchronized (this) {
                r = real;
                if (r == null) {
                    r = create();
                    real = r;
                }
            }
        }
        return r;
    }

    /** @return the real hooks if they were made already, else null (nothing to do for them yet) */
    final T madeOrNull() {
        return real;
    }
}
