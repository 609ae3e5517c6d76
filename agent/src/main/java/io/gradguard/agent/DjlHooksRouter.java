package io.gradguard.agent;

import java.lang.reflect.Method;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The DJL hooks {@link AgentDispatch} calls, routed by class loader: each call goes to the hooks of the
 * DJL its argument belongs to (the loader that defined the {@code ai.djl.training.Trainer} visible from
 * the argument's class). The system class loader's DJL gets the hooks the installer made at start-up,
 * exactly as before; any other loader's DJL (a Spring Boot executable jar, an app's own
 * {@code URLClassLoader}) gets its own {@link DjlAgentHooks}, defined in a {@link GuardClassLoader} on top
 * of that loader the first time one of its trainers reaches the advice. Two loaders with DJL in one JVM
 * get two guards, which share only the log numbering.
 *
 * <p>Holds no engine type itself. Routing is two {@link ClassValue} look-ups, and nothing here keeps an
 * application's class loader alive. A loader whose guard cannot be built runs unguarded, with one line on
 * standard error.
 */
final class DjlHooksRouter implements AgentDispatch.Hooks {

    private static final String TRAINER = "ai.djl.training.Trainer";

    private final AgentDispatch.Hooks systemHooks;
    private final ClassLoader systemDjl;
    private final String args;
    private final long installMs;
    private final AtomicInteger trainersSeen;

    /** Per DJL: the {@code Trainer} class of each DJL copy, mapped to that copy's hooks. */
    private final ClassValue<AgentDispatch.Hooks> byTrainerClass = new ClassValue<>() {
        @Override
        protected AgentDispatch.Hooks computeValue(Class<?> trainerClass) {
            return trainerClass.getClassLoader() == systemDjl && systemHooks != null ? systemHooks : create(trainerClass);
        }
    };

    /** Per argument class (a trainer, an engine's NDArray): the hooks of the DJL it belongs to. */
    private final ClassValue<AgentDispatch.Hooks> byClass = new ClassValue<>() {
        @Override
        protected AgentDispatch.Hooks computeValue(Class<?> type) {
            ClassLoader l = type.getClassLoader();
            if (l == systemDjl && systemHooks != null) {
                return systemHooks;
            }
            Class<?> trainer;
            try {
                trainer = Class.forName(TRAINER, false, l);
            } catch (ClassNotFoundException | LinkageError e) {
                return Inert.INSTANCE; // not a DJL object at all
            }
            return byTrainerClass.get(trainer);
        }
    };

    /**
     * @param systemHooks the hooks of the system class loader's DJL, or null when it has none
     * @param args the agent arguments, read again by each loader's guard (its configuration classes are its own)
     * @param installMs the agent's installation time, for the log header
     * @param trainersSeen the trainer count that numbers the logs, shared with {@code systemHooks}
     */
    DjlHooksRouter(AgentDispatch.Hooks systemHooks, String args, long installMs, AtomicInteger trainersSeen) {
        this.systemHooks = systemHooks;
        this.systemDjl = ClassLoader.getSystemClassLoader();
        this.args = args;
        this.installMs = installMs;
        this.trainersSeen = trainersSeen;
    }

    /**
     * @param o a trainer or a loss array
     * @return the hooks of the DJL that {@code o} belongs to (an inert stand-in for anything else)
     */
    AgentDispatch.Hooks hooksFor(Object o) {
        return o == null ? Inert.INSTANCE : byClass.get(o.getClass());
    }

    private AgentDispatch.Hooks create(Class<?> trainerClass) {
        ClassLoader djl = trainerClass.getClassLoader();
        try {
            GuardClassLoader guard = new GuardClassLoader(djl, AgentDispatch.class.getClassLoader());
            Class<?> hooks = Class.forName(DjlAgentHooks.class.getName(), true, guard);
            Method factory = hooks.getDeclaredMethod("forLoader", String.class, long.class, AtomicInteger.class);
            factory.setAccessible(true);
            return (AgentDispatch.Hooks) factory.invoke(null, args, installMs, trainersSeen);
        } catch (Throwable t) {
            Throwable cause = t instanceof java.lang.reflect.InvocationTargetException ite && ite.getCause() != null
                    ? ite.getCause() : t;
            System.err.println("GradGuard agent: cannot guard the DJL of class loader " + describe(djl) + " (" + cause
                    + "); its trainers run unguarded");
            return Inert.INSTANCE;
        }
    }

    /**
     * @param loader a class loader
     * @return its class, name and identity, as the agent's messages name it
     */
    static String describe(ClassLoader loader) {
        if (loader == null) {
            return "bootstrap";
        }
        String name = loader.getName();
        return loader.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(loader))
                + (name == null ? "" : " '" + name + "'");
    }

    @Override
    public void trainerCreated(Object trainer) {
        hooksFor(trainer).trainerCreated(trainer);
    }

    @Override
    public boolean beforeStep(Object trainer) {
        return hooksFor(trainer).beforeStep(trainer);
    }

    @Override
    public Throwable takeHalt(Object trainer) {
        return hooksFor(trainer).takeHalt(trainer);
    }

    @Override
    public void backward(Object loss) {
        hooksFor(loss).backward(loss);
    }

    @Override
    public void trainerClosed(Object trainer) {
        hooksFor(trainer).trainerClosed(trainer);
    }

    /** The hooks of a DJL the agent does not guard: every call does nothing. */
    enum Inert implements AgentDispatch.Hooks {
        INSTANCE;

        @Override
        public void trainerCreated(Object trainer) {}

        @Override
        public boolean beforeStep(Object trainer) {
            return false;
        }

        @Override
        public Throwable takeHalt(Object trainer) {
            return null;
        }

        @Override
        public void backward(Object loss) {}

        @Override
        public void trainerClosed(Object trainer) {}
    }
}
