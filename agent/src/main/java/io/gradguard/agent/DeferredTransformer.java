package io.gradguard.agent;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Registered synchronously at {@code premain} (it costs nothing), while the real transformer, which takes
 * about half a second to build in a cold JVM, is built on a background thread beside the application's
 * own start-up. Classes outside {@code ai.djl} and {@code org.tensorflow} pass straight through; the first
 * DJL or TensorFlow class to load, in any class loader, waits for the real transformer (bounded) and is then
 * handed to it, so no such class escapes instrumentation. When no engine is on the class path, the
 * background build starts only with that first engine class.
 */
final class DeferredTransformer implements ClassFileTransformer {

    private static final long MAX_WAIT_SECONDS = 60;

    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile ClassFileTransformer delegate;
    private volatile Thread builder;
    private volatile boolean timedOut;
    private final AtomicBoolean started = new AtomicBoolean();

    /**
     * @param thread the thread that builds the real transformer (never made to wait on itself); not started yet
     * @param now start it now (an engine is on the class path), or only when the first engine class loads,
     *     in whatever class loader (none is on the class path, but one may load later), so that an app that
     *     never loads one pays nothing
     */
    void builtBy(Thread thread, boolean now) {
        this.builder = thread;
        if (now) {
            start();
        }
    }

    private void start() {
        if (started.compareAndSet(false, true)) {
            builder.start();
        }
    }

    /**
     * @param real the real transformer, or null when building it failed
     */
    void complete(ClassFileTransformer real) {
        this.delegate = real;
        ready.countDown();
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain domain,
            byte[] bytes) {
        if (className == null || !(className.startsWith("ai/djl/") || className.startsWith("org/tensorflow/"))
                || Thread.currentThread() == builder) {
            return null;
        }
        try {
            start();
            if (!ready.await(MAX_WAIT_SECONDS, TimeUnit.SECONDS)) {
                if (!timedOut) {
                    timedOut = true;
                    System.err.println("GradGuard agent: waited " + MAX_WAIT_SECONDS + " s for the agent's set-up while loading "
                            + className.replace('/', '.') + "; classes loaded meanwhile run unguarded");
                }
                return null;
            }
            ClassFileTransformer real = delegate;
            return real == null ? null : real.transform(loader, className, redefined, domain, bytes);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Throwable t) {
            return null;
        }
    }
}
