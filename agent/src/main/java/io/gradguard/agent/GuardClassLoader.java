package io.gradguard.agent;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.Objects;

/**
 * Links the agent's guard code against the DJL of one application class loader that is not the system
 * class loader (Spring Boot's launcher, an app's own {@code URLClassLoader}). Its parent is that
 * loader, so {@code ai.djl.*}, SLF4J and the JDK come from where the app's DJL came from; GradGuard's own
 * classes ({@code io.gradguard.*}: core, the DJL adapter, the agent's hooks) are defined here again from
 * the agent jar, so that they link against that DJL and not the system loader's (which has none).
 *
 * <p>Two exceptions keep the parts together. {@link AgentDispatch} and its nested interfaces always come
 * from the agent's own loader: the advice inlined into the app's DJL calls that one class, and the hooks
 * defined here implement its interface. And a GradGuard class that the app's loader holds in a copy of
 * its own (the app bundles {@code gradguard-djl} and wires the listener itself) is taken from the app, as
 * on the system class path, so that the agent and the app's own guard see the same claims and step aside
 * for each other.
 */
final class GuardClassLoader extends ClassLoader {

    static {
        registerAsParallelCapable();
    }

    private static final String OURS = "io.gradguard.";
    private static final String DISPATCH = AgentDispatch.class.getName();

    private final ClassLoader agentLoader;

    /**
     * @param djlLoader the loader that defined the app's {@code ai.djl.training.Trainer}
     * @param agentLoader the loader that holds the agent jar (the one that defined {@link AgentDispatch})
     */
    GuardClassLoader(ClassLoader djlLoader, ClassLoader agentLoader) {
        super("gradguard-for-" + Objects.requireNonNull(djlLoader, "djlLoader"), djlLoader);
        this.agentLoader = Objects.requireNonNull(agentLoader, "agentLoader");
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (!name.startsWith(OURS)) {
            return super.loadClass(name, resolve);
        }
        if (name.equals(DISPATCH) || name.startsWith(DISPATCH + "$")) {
            return agentLoader.loadClass(name);
        }
        synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
                String path = name.replace('.', '/') + ".class";
                URL agentCopy = agentLoader.getResource(path);
                URL appCopy = getParent().getResource(path);
                if (agentCopy == null || (appCopy != null && !sameResource(appCopy, agentCopy))) {
                    // the app's own copy (or not ours at all, e.g. the app's io.gradguard.models): the app's loader decides
                    return getParent().loadClass(name);
                }
                c = define(name, agentCopy);
            }
            if (resolve) {
                resolveClass(c);
            }
            return c;
        }
    }

    private Class<?> define(String name, URL from) throws ClassNotFoundException {
        byte[] bytes;
        try (InputStream in = from.openStream()) {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new ClassNotFoundException("cannot read " + name + " from the agent jar at " + from + ": " + e, e);
        }
        return defineClass(name, bytes, 0, bytes.length, AgentDispatch.class.getProtectionDomain());
    }

    /** Two URLs of the same class file: the app's loader delegated to the agent's (its parent) and found the agent's copy. */
    private static boolean sameResource(URL a, URL b) {
        return a.toExternalForm().equals(b.toExternalForm());
    }

    @Override
    public String toString() {
        return getName();
    }
}
