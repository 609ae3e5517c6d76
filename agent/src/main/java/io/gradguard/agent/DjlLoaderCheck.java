package io.gradguard.agent;

import java.net.URL;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.BooleanSupplier;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.pool.TypePool;

/**
 * Which class loaders' DJL classes the agent instruments. The system class loader's DJL was checked at
 * start-up, before anything was instrumented. Any other loader is checked once, when the first
 * {@code ai.djl} class it defines passes the transformer (so a Spring Boot launcher's or an app's own
 * loader is found whenever it appears): it must see the agent's {@link AgentDispatch} (that is, delegate
 * to the system class loader, as Boot's launcher and a default {@code URLClassLoader} do), its DJL must have
 * the shape the agent knows, and it must see SLF4J. A loader that passes is announced once on standard
 * error; one that fails is named once, with the reason, and its DJL runs uninstrumented.
 */
final class DjlLoaderCheck extends ElementMatcher.Junction.AbstractBase<ClassLoader> {

    private static final String TRAINER = "ai/djl/training/Trainer.class";
    private static final String DISPATCH = AgentDispatch.class.getName().replace('.', '/') + ".class";

    private final ClassLoader systemLoader = ClassLoader.getSystemClassLoader();
    private final BooleanSupplier systemGuarded;
    private final String configText;
    private final Map<ClassLoader, Boolean> verdicts = Collections.synchronizedMap(new WeakHashMap<>());
    private volatile boolean found;

    /**
     * @param systemGuarded whether the system class loader's DJL passed the start-up check
     * @param configText the effective configuration, for the announcement
     */
    DjlLoaderCheck(BooleanSupplier systemGuarded, String configText) {
        this.systemGuarded = systemGuarded;
        this.configText = configText;
    }

    /** @return true once any loader other than the system one was found to hold DJL (guarded or not) */
    boolean foundElsewhere() {
        return found;
    }

    @Override
    public boolean matches(ClassLoader loader) {
        if (loader == null) {
            return false;
        }
        if (loader == systemLoader) {
            return systemGuarded.getAsBoolean();
        }
        Boolean v = verdicts.get(loader);
        if (v != null) {
            return v;
        }
        // checked outside the lock (it reads class files through the loader); the first verdict stands
        boolean djl = loader.getResource(TRAINER) != null;
        String problem = null;
        if (djl) {
            try {
                problem = problem(loader);
            } catch (Throwable t) {
                problem = "checking it failed: " + t;
            }
        }
        boolean ok = djl && problem == null;
        synchronized (verdicts) {
            Boolean earlier = verdicts.get(loader);
            if (earlier != null) {
                return earlier;
            }
            verdicts.put(loader, ok);
        }
        if (djl) {
            found = true;
            System.err.println(ok
                    ? "GradGuard agent " + Installer.VERSION + ": guarding DJL trainers in class loader "
                            + DjlHooksRouter.describe(loader) + ": " + configText
                    : "GradGuard agent: the DJL in class loader " + DjlHooksRouter.describe(loader)
                            + " cannot be guarded: " + problem + " -- its trainers run unguarded");
        }
        return ok;
    }

    /** @return why this loader's DJL cannot be guarded, or null when it can */
    private static String problem(ClassLoader loader) {
        URL dispatch = loader.getResource(DISPATCH);
        URL ours = AgentDispatch.class.getClassLoader().getResource(DISPATCH);
        if (dispatch == null || ours == null || !dispatch.toExternalForm().equals(ours.toExternalForm())) {
            return "the loader does not delegate to the class loader of the agent jar, so the advice could not reach"
                    + " the agent (found " + (dispatch == null ? "no " + AgentDispatch.class.getName() : dispatch) + ")";
        }
        TypePool pool = TypePool.Default.of(ClassFileLocator.ForClassLoader.of(loader));
        List<String> missing = Installer.djlShapeProblems(pool);
        if (!missing.isEmpty()) {
            return "its DJL has a shape this agent does not know (" + String.join("; ", missing) + ")";
        }
        if (!pool.describe("org.slf4j.LoggerFactory").isResolved()) {
            return "SLF4J (org.slf4j:slf4j-api) is not visible from it";
        }
        return null;
    }

    @Override
    public String toString() {
        return "DJL class loaders the agent can guard";
    }
}
