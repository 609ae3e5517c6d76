package io.gradguard.agent;

import static net.bytebuddy.matcher.ElementMatchers.hasSuperType;
import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.isInterface;
import static net.bytebuddy.matcher.ElementMatchers.nameEndsWith;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.pool.TypePool;

/** Reads the configuration, checks that the app's DJL has the shape the agent knows, installs the advice. */
final class Installer {

    static final String VERSION = "0.1.0";

    private Installer() {}

    static void install(String args, Instrumentation inst, long t0, boolean attached) {
        AgentConfig config = AgentConfig.read(args, System.getProperties(), System.getenv());
        if (!config.enabled()) {
            System.err.println("GradGuard agent " + VERSION + ": disabled (" + config.guard().policy().key() + ")");
            return;
        }
        if (!config.djl()) {
            System.err.println("GradGuard agent " + VERSION + ": djl.enabled=false, nothing to guard");
            return;
        }
        if (ClassLoader.getSystemResource("ai/djl/training/Trainer.class") == null) {
            throw new IllegalStateException("DJL (ai.djl:api) is not on the class path; nothing to guard");
        }
        if (config.strict() || attached) {
            // strict: every problem must surface before the application starts; attached: DJL classes may
            // already be loaded and need retransforming now
            instrument(config, t0).installOn(inst);
            ready(config, t0);
            return;
        }
        // Otherwise the expensive part (reading DJL's class files, building the transformer) runs beside
        // the application's own start-up, behind a transformer that makes the first DJL class wait for it.
        DeferredTransformer deferred = new DeferredTransformer();
        inst.addTransformer(deferred);
        Thread t = new Thread(new Runnable() {
            @Override
            public void run() {
                try {
                    deferred.complete(instrument(config, t0).makeRaw());
                    ready(config, t0);
                } catch (Throwable e) {
                    deferred.complete(null);
                    System.err.println("GradGuard agent: " + e.getMessage() + " -- the application runs unguarded");
                }
            }
        }, "gradguard-agent-install");
        deferred.builtBy(t);
        t.setDaemon(true);
        t.start();
    }

    private static void ready(AgentConfig config, long t0) {
        long installMs = (System.nanoTime() - t0) / 1_000_000;
        AgentDispatch.install(new DjlAgentHooks(config, installMs));
        System.err.println("GradGuard agent " + VERSION + ": guarding DJL trainers (installed in " + installMs + " ms): " + config);
    }

    private static AgentBuilder instrument(AgentConfig config, long t0) {
        TypePool pool = TypePool.Default.of(ClassFileLocator.ForClassLoader.ofSystemLoader());
        List<String> missing = djlShapeProblems(pool);
        if (!missing.isEmpty()) {
            throw new IllegalStateException(missing.get(0).startsWith("DJL") ? missing.get(0)
                    : "the application's DJL has a shape this agent does not know (" + String.join("; ", missing) + ")");
        }
        if (!pool.describe("org.slf4j.LoggerFactory").isResolved()) {
            throw new IllegalStateException("SLF4J (org.slf4j:slf4j-api) is not on the class path");
        }
        // Cheap on the host: only classes named ai.djl.* are looked at, and the advice only decorates
        // methods (no class format change), so classes that are already loaded can be retransformed.
        return new AgentBuilder.Default()
                .disableClassFormatChanges()
                .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
                .with(AgentBuilder.InitializationStrategy.NoOp.INSTANCE)
                .with(AgentBuilder.TypeStrategy.Default.DECORATE)
                .with(AgentBuilder.DescriptionStrategy.Default.POOL_FIRST)
                .with(new FailOpenListener())
                .ignore(not(nameStartsWith("ai.djl.")))
                .type(named("ai.djl.training.Trainer"))
                .transform(new AdviceTransformer(
                        Advice.to(TrainerAdvice.Constructed.class).on(isConstructor()),
                        Advice.to(TrainerAdvice.Step.class).on(named("step").and(takesArguments(0))),
                        Advice.to(TrainerAdvice.Close.class).on(named("close").and(takesArguments(0)))))
                // name first: every engine's collector is called *GradientCollector, and matching on the
                // name spares resolving the type hierarchy of every other DJL class as it loads
                .type(nameStartsWith("ai.djl.").and(nameEndsWith("GradientCollector")).and(not(isInterface()))
                        .and(hasSuperType(named("ai.djl.training.GradientCollector"))))
                .transform(new AdviceTransformer(
                        Advice.to(TrainerAdvice.Backward.class).on(named("backward").and(takesArguments(1)))));
    }

    /** What the agent needs from DJL, checked on the class files without loading any class. */
    static List<String> djlShapeProblems(TypePool pool) {
        List<String> problems = new ArrayList<>();
        TypePool.Resolution trainer = pool.describe("ai.djl.training.Trainer");
        if (!trainer.isResolved()) {
            problems.add("DJL (ai.djl:api) is not on the class path; nothing to guard");
            return problems;
        }
        TypeDescription t = trainer.resolve();
        requireMethod(t, "step", 0, problems);
        requireField(t, "parameterStore", problems);
        requireField(t, "listeners", problems);
        TypePool.Resolution store = pool.describe("ai.djl.training.ParameterStore");
        if (store.isResolved()) {
            requireField(store.resolve(), "parameterServer", problems);
        } else {
            problems.add("no class ai.djl.training.ParameterStore");
        }
        TypePool.Resolution collector = pool.describe("ai.djl.training.GradientCollector");
        if (collector.isResolved()) {
            requireMethod(collector.resolve(), "backward", 1, problems);
        } else {
            problems.add("no class ai.djl.training.GradientCollector");
        }
        return problems;
    }

    private static void requireMethod(TypeDescription t, String name, int args, List<String> problems) {
        boolean found = !t.getDeclaredMethods()
                .filter(named(name).and(takesArguments(args)))
                .isEmpty();
        if (!found) {
            problems.add(t.getName() + "." + name + " with " + args + " argument(s) is missing");
        }
    }

    private static void requireField(TypeDescription t, String name, List<String> problems) {
        boolean found = !t.getDeclaredFields().filter(named(name)).isEmpty();
        if (!found) {
            problems.add("field " + t.getName() + "." + name + " is missing");
        }
    }

    /** Applies advice wrappers (a named class rather than a lambda: no invokedynamic bootstrap at premain). */
    private static final class AdviceTransformer implements AgentBuilder.Transformer {
        private final net.bytebuddy.asm.AsmVisitorWrapper[] advice;

        AdviceTransformer(net.bytebuddy.asm.AsmVisitorWrapper... advice) {
            this.advice = advice;
        }

        @Override
        public net.bytebuddy.dynamic.DynamicType.Builder<?> transform(net.bytebuddy.dynamic.DynamicType.Builder<?> builder,
                TypeDescription type, ClassLoader loader, net.bytebuddy.utility.JavaModule module,
                java.security.ProtectionDomain domain) {
            net.bytebuddy.dynamic.DynamicType.Builder<?> b = builder;
            for (net.bytebuddy.asm.AsmVisitorWrapper a : advice) {
                b = b.visit(a);
            }
            return b;
        }
    }

    /** Reports a failed transformation once, on standard error; the class stays as it was. */
    private static final class FailOpenListener extends AgentBuilder.Listener.Adapter {
        private volatile boolean reported;

        @Override
        public void onError(String typeName, ClassLoader classLoader, net.bytebuddy.utility.JavaModule module,
                boolean loaded, Throwable throwable) {
            if (!reported) {
                reported = true;
                System.err.println("GradGuard agent: could not instrument " + typeName + " (" + throwable
                        + "); that class runs unguarded");
            }
        }
    }
}
