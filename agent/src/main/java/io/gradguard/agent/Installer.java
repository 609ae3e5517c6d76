package io.gradguard.agent;

import static net.bytebuddy.matcher.ElementMatchers.hasSuperType;
import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.isInterface;
import static net.bytebuddy.matcher.ElementMatchers.nameEndsWith;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import io.gradguard.djl.internal.DjlShape;
import io.gradguard.tensorflow.internal.TfShape;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.pool.TypePool;

/** Reads the configuration, checks that the app's DJL and TensorFlow Java have the shapes the agent knows, installs the advice. */
final class Installer {

    static final String VERSION = "0.1.0";

    private Installer() {}

    static void install(String args, Instrumentation inst, long t0, boolean attached) {
        AgentConfig config = AgentConfig.read(args, System.getProperties(), System.getenv());
        if (!config.enabled()) {
            System.err.println("GradGuard agent " + VERSION + ": disabled (" + config.guard().policy().key() + ")");
            return;
        }
        if (!config.djl() && !config.tensorflow()) {
            System.err.println("GradGuard agent " + VERSION + ": djl.enabled=false and tensorflow.enabled=false, nothing to guard");
            return;
        }
        boolean djl = config.djl() && ClassLoader.getSystemResource("ai/djl/training/Trainer.class") != null;
        boolean tf = config.tensorflow()
                && ClassLoader.getSystemResource("org/tensorflow/framework/optimizers/Optimizer.class") != null;
        String nothing = config.tensorflow() && config.djl()
                ? "neither DJL (ai.djl:api) nor TensorFlow Java (org.tensorflow:tensorflow-framework) is on the class path; nothing to guard"
                : config.djl() ? "DJL (ai.djl:api) is not on the class path and tensorflow.enabled=false; nothing to guard"
                : "TensorFlow Java (org.tensorflow:tensorflow-framework) is not on the class path and djl.enabled=false; nothing to guard";
        // DJL may still turn up later in another class loader (a Spring Boot executable jar's launcher, an app's
        // own URLClassLoader); strict needs every problem found before the app starts, so it does not wait for one
        boolean watch = config.djl() && !config.strict();
        if (!djl && !tf && !watch) {
            throw new IllegalStateException(nothing);
        }
        Engines engines = new Engines(djl, tf, watch, config);
        if (!djl && !tf) {
            // only the watch is left: say "nothing to guard" at exit if no class loader ever brought DJL
            Runtime.getRuntime().addShutdownHook(new Thread(new Runnable() {
                @Override
                public void run() {
                    if (!engines.loaders.foundElsewhere()) {
                        System.err.println("GradGuard agent: " + nothing + " -- the application runs unguarded");
                    }
                }
            }, "gradguard-agent-exit"));
        }
        if (config.strict() || attached) {
            // strict: every problem must surface before the application starts; attached: engine classes may
            // already be loaded and need retransforming now
            AgentBuilder builder = instrument(config, engines);
            installHooks(config, args, t0, engines);
            builder.installOn(inst);
            announce(config, engines);
            return;
        }
        // Otherwise the expensive part (reading the engines' class files, building the transformer) runs beside
        // the application's own start-up, behind a transformer that makes the first engine class wait for it.
        // With no engine on the class path it runs only once a class loader loads a DJL class, if ever.
        DeferredTransformer deferred = new DeferredTransformer();
        Thread t = new Thread(new Runnable() {
            @Override
            public void run() {
                // started late (no engine on the class path): the installation time counts from here, not from premain
                long from = djl || tf ? t0 : System.nanoTime();
                // Say it before releasing the application: this thread is a daemon, and an application that
                // finishes quickly once released may end the JVM before a line printed afterwards is written.
                try {
                    java.lang.instrument.ClassFileTransformer real = instrument(config, engines).makeRaw();
                    // hooks first: the application runs on as soon as the transformer is released
                    installHooks(config, args, from, engines);
                    announce(config, engines);
                    deferred.complete(real);
                } catch (Throwable e) {
                    System.err.println("GradGuard agent: " + e.getMessage() + " -- the application runs unguarded");
                    deferred.complete(null);
                }
            }
        }, "gradguard-agent-install");
        t.setDaemon(true);
        deferred.builtBy(t, djl || tf);
        inst.addTransformer(deferred);
    }

    /**
     * Which engines the agent guards; an engine whose shape it does not know is dropped with a warning. DJL
     * is instrumented when it is on the system class path ({@code djl}) or may turn up later ({@code watch}),
     * and then in the system class loader when {@code djl} and in any other class loader that
     * {@code loaders} admits.
     */
    private static final class Engines {
        volatile boolean djl;
        volatile boolean tf;
        final boolean watch;
        final DjlLoaderCheck loaders;
        volatile long installMs;

        Engines(boolean djl, boolean tf, boolean watch, AgentConfig config) {
            this.djl = djl;
            this.tf = tf;
            this.watch = watch;
            this.loaders = new DjlLoaderCheck(() -> this.djl, config.toString());
        }

        String describe() {
            return djl && tf ? "DJL trainers and TensorFlow Java optimizers" : djl ? "DJL trainers" : "TensorFlow Java optimizers";
        }
    }

    private static void installHooks(AgentConfig config, String args, long t0, Engines engines) {
        engines.installMs = (System.nanoTime() - t0) / 1_000_000;
        if (engines.djl || engines.watch) {
            AtomicInteger trainers = new AtomicInteger();
            AgentDispatch.install(new DjlHooksRouter(engines.djl ? new LazyDjlHooks(config, engines.installMs, trainers) : null,
                    args, engines.installMs, trainers));
        }
        if (engines.tf) {
            AgentDispatch.installTf(new LazyTfHooks(config));
        }
    }

    private static void announce(AgentConfig config, Engines engines) {
        if (engines.djl || engines.tf) {
            System.err.println("GradGuard agent " + VERSION + ": guarding " + engines.describe() + " (installed in "
                    + engines.installMs + " ms): " + config);
        }
    }

    private static AgentBuilder instrument(AgentConfig config, Engines engines) {
        TypePool pool = TypePool.Default.of(ClassFileLocator.ForClassLoader.ofSystemLoader());
        if (engines.djl) {
            List<String> missing = djlShapeProblems(pool);
            if (!missing.isEmpty()) {
                String why = missing.get(0).startsWith("DJL") ? missing.get(0)
                        : "the application's DJL has a shape this agent does not know (" + String.join("; ", missing) + ")";
                if (config.strict() || !engines.tf) {
                    throw new IllegalStateException(why);
                }
                System.err.println("GradGuard agent: " + why + " -- DJL runs unguarded");
                engines.djl = false;
            }
        }
        if (engines.tf) {
            List<String> missing = tensorFlowShapeProblems(pool);
            if (!missing.isEmpty()) {
                String why = "the application's TensorFlow Java has a shape this agent does not know ("
                        + String.join("; ", missing) + ")";
                if (config.strict() || !engines.djl) {
                    throw new IllegalStateException(why);
                }
                System.err.println("GradGuard agent: " + why + " -- TensorFlow runs unguarded");
                engines.tf = false;
            }
        }
        if ((engines.djl || engines.tf) && !pool.describe("org.slf4j.LoggerFactory").isResolved()) {
            throw new IllegalStateException("SLF4J (org.slf4j:slf4j-api) is not on the class path");
        }
        // Cheap on the host: only classes named ai.djl.* / org.tensorflow.* are looked at, and the advice only
        // decorates methods (no class format change), so classes that are already loaded can be retransformed.
        AgentBuilder.Ignored builder = new AgentBuilder.Default()
                .disableClassFormatChanges()
                .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
                .with(AgentBuilder.InitializationStrategy.NoOp.INSTANCE)
                .with(AgentBuilder.TypeStrategy.Default.DECORATE)
                .with(AgentBuilder.DescriptionStrategy.Default.POOL_FIRST)
                .with(new FailOpenListener())
                .ignore(not(nameStartsWith("ai.djl.").or(nameStartsWith("org.tensorflow."))));
        AgentBuilder b = builder;
        if (engines.djl || engines.watch) {
            // by name in every class loader: the system one as checked above, any other one as DjlLoaderCheck finds it
            b = b.type(named("ai.djl.training.Trainer"), engines.loaders)
                    .transform(new AdviceTransformer(
                            Advice.to(TrainerAdvice.Constructed.class).on(isConstructor()),
                            Advice.to(TrainerAdvice.Step.class).on(named("step").and(takesArguments(0))),
                            Advice.to(TrainerAdvice.Close.class).on(named("close").and(takesArguments(0)))))
                    // name first: every engine's collector is called *GradientCollector, and matching on the
                    // name spares resolving the type hierarchy of every other DJL class as it loads
                    .type(nameStartsWith("ai.djl.").and(nameEndsWith("GradientCollector")).and(not(isInterface()))
                            .and(hasSuperType(named("ai.djl.training.GradientCollector"))), engines.loaders)
                    .transform(new AdviceTransformer(
                            Advice.to(TrainerAdvice.Backward.class).on(named("backward").and(takesArguments(1)))));
        }
        if (engines.tf) {
            b = b.type(named(TF_OPTIMIZER))
                    .transform(new AdviceTransformer(
                            Advice.to(TfAdvice.ComputeGradients.class).on(named("computeGradients").and(takesArguments(1))),
                            Advice.to(TfAdvice.ApplyGradients.class).on(named("applyGradients").and(takesArguments(2)))))
                    .type(named(TF_RUNNER))
                    .transform(new AdviceTransformer(
                            Advice.to(TfAdvice.Run.class).on(named("run").or(named("runAndFetchMetadata"))
                                    .and(takesArguments(0)))));
        }
        return b;
    }

    static final String TF_OPTIMIZER = TfShape.OPTIMIZER;
    static final String TF_RUNNER = TfShape.RUNNER;

    /**
     * What the agent needs from TensorFlow Java, checked on the class files without loading any class: the methods
     * it instruments and the fields the guard cannot work without ({@link TfShape#REQUIRED}). The fields of
     * {@link TfShape#OPTIONAL} are not checked: each has a run-time fallback.
     */
    static List<String> tensorFlowShapeProblems(TypePool pool) {
        List<String> problems = new ArrayList<>();
        TypePool.Resolution optimizer = pool.describe(TF_OPTIMIZER);
        TypePool.Resolution runner = pool.describe(TF_RUNNER);
        if (!optimizer.isResolved() || !runner.isResolved()) {
            problems.add("no class " + (optimizer.isResolved() ? TF_RUNNER : TF_OPTIMIZER));
            return problems;
        }
        TypeDescription o = optimizer.resolve();
        requireMethod(o, "computeGradients", 1, problems);
        requireMethod(o, "applyGradients", 2, problems);
        requireMethod(runner.resolve(), "run", 0, problems);
        requireFields(pool, TfShape.REQUIRED, problems);
        return problems;
    }

    /**
     * What the agent needs from DJL, checked on the class files without loading any class: the methods it
     * instruments and the fields the guard cannot work without ({@link DjlShape#REQUIRED}). The fields of
     * {@link DjlShape#OPTIONAL} are not checked: each has a run-time fallback.
     */
    static List<String> djlShapeProblems(TypePool pool) {
        List<String> problems = new ArrayList<>();
        TypePool.Resolution trainer = pool.describe("ai.djl.training.Trainer");
        if (!trainer.isResolved()) {
            problems.add("DJL (ai.djl:api) is not on the class path; nothing to guard");
            return problems;
        }
        TypeDescription t = trainer.resolve();
        requireMethod(t, "step", 0, problems);
        requireFields(pool, DjlShape.REQUIRED, problems);
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

    /** Every field of a shape ({@link DjlShape#REQUIRED}, {@link TfShape#REQUIRED}): the classes must exist and declare them. */
    private static void requireFields(TypePool pool, Map<String, List<String>> shape, List<String> problems) {
        for (Map.Entry<String, List<String>> e : shape.entrySet()) {
            TypePool.Resolution owner = pool.describe(e.getKey());
            if (!owner.isResolved()) {
                problems.add("no class " + e.getKey());
                continue;
            }
            for (String field : e.getValue()) {
                requireField(owner.resolve(), field, problems);
            }
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
