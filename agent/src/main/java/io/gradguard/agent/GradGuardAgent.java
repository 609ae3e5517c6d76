package io.gradguard.agent;

import java.lang.instrument.Instrumentation;

/**
 * {@code -javaagent:gradguard-agent.jar[=key=value,...]}: guards an unmodified DJL training app. Never
 * crashes or blocks the host: any problem is one line on standard error and the app runs unguarded,
 * unless {@code strict=true}, which turns it into a startup failure.
 */
public final class GradGuardAgent {

    private GradGuardAgent() {}

    /**
     * Entry point at JVM start.
     *
     * @param args agent arguments
     * @param inst the instrumentation
     */
    public static void premain(String args, Instrumentation inst) {
        start(args, inst, false);
    }

    /**
     * Entry point when attached to a running JVM.
     *
     * @param args agent arguments
     * @param inst the instrumentation
     */
    public static void agentmain(String args, Instrumentation inst) {
        start(args, inst, true);
    }

    private static void start(String args, Instrumentation inst, boolean attached) {
        long t0 = System.nanoTime();
        boolean strict = AgentConfig.strictRequested(args, System.getProperties(), System.getenv());
        try {
            Installer.install(args, inst, t0, attached);
        } catch (Throwable t) {
            if (strict) {
                throw new IllegalStateException("GradGuard agent failed to start (strict=true): " + t.getMessage(), t);
            }
            System.err.println("GradGuard agent: " + t.getMessage() + " -- the application runs unguarded");
        }
    }
}
