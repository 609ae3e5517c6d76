package io.gradguard.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two copies of the real DJL api jar in two class loaders beside the test's own (system) DJL, as two
 * deployed apps would have them: the router gives each copy its own guard, linked against that copy's
 * classes, and the system copy the installer's hooks; the loader check admits exactly the loaders the
 * advice can reach and names the others. No engine is needed: nothing here trains.
 */
class ClassLoaderRoutingTest {

    private static final String DISPATCH = AgentDispatch.class.getName();

    private final List<URLClassLoader> opened = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (URLClassLoader l : opened) {
            l.close();
        }
    }

    /** Shows the JDK and the agent's dispatch class from the system loader, nothing else (a container's app loader). */
    static final class OnlyDispatch extends ClassLoader {
        OnlyDispatch() {
            super(ClassLoader.getPlatformClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            return name.startsWith(DISPATCH) ? AgentDispatch.class.getClassLoader().loadClass(name) : super.loadClass(name, resolve);
        }

        @Override
        protected URL findResource(String name) {
            return name.startsWith(DISPATCH.replace('.', '/')) ? AgentDispatch.class.getClassLoader().getResource(name) : null;
        }
    }

    /** A loader over the test class path entries that {@code keep} selects, above {@code parent}. */
    private URLClassLoader loader(String name, ClassLoader parent, Predicate<String> keep) throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (keep.test(e.replace('\\', '/'))) {
                urls.add(Path.of(e).toUri().toURL());
            }
        }
        assertThat(urls).as("class path entries for %s", name).isNotEmpty();
        URLClassLoader l = new URLClassLoader(name, urls.toArray(URL[]::new), parent);
        opened.add(l);
        return l;
    }

    private static boolean djlApi(String e) {
        return e.contains("/ai/djl/api/") || e.contains("gson") || e.contains("/jna/") || e.contains("commons-compress");
    }

    private static boolean slf4j(String e) {
        return e.contains("slf4j-api");
    }

    private URLClassLoader djlLoader(String name) throws Exception {
        return loader(name, new OnlyDispatch(), e -> djlApi(e) || slf4j(e));
    }

    /** A DJL object of the given loader (a shape: no engine needed). */
    private static Object shapeOf(ClassLoader l) throws Exception {
        return Class.forName("ai.djl.ndarray.types.Shape", true, l).getConstructor(long[].class).newInstance((Object) new long[] {2});
    }

    @Test
    void eachDjlCopyGetsItsOwnGuardLinkedAgainstItsOwnClasses() throws Exception {
        AgentDispatch.Hooks inert = DjlHooksRouter.Inert.INSTANCE;
        DjlHooksRouter router = new DjlHooksRouter(new LazyDjlHooks(AgentConfig.read("", new java.util.Properties(), java.util.Map.of()), 0,
                new AtomicInteger()), "", 0, new AtomicInteger());
        URLClassLoader a = djlLoader("app-a");
        URLClassLoader b = djlLoader("app-b");
        Object inA = shapeOf(a);
        Object inB = shapeOf(b);

        AgentDispatch.Hooks hooksA = router.hooksFor(inA);
        AgentDispatch.Hooks hooksB = router.hooksFor(inB);
        assertThat(hooksA.getClass().getName()).isEqualTo(DjlAgentHooks.class.getName());
        assertThat(hooksA.getClass()).as("defined again, not the system loader's").isNotEqualTo(DjlAgentHooks.class);
        assertThat(hooksB).isNotSameAs(hooksA);
        assertThat(router.hooksFor(shapeOf(a))).as("one guard per DJL copy").isSameAs(hooksA);
        assertThat(router.hooksFor(new ai.djl.ndarray.types.Shape(2))).as("the system DJL keeps the installer's hooks")
                .isInstanceOf(LazyDjlHooks.class);
        assertThat(router.hooksFor("not DJL")).isSameAs(inert);
        assertThat(router.hooksFor(null)).isSameAs(inert);

        for (URLClassLoader djl : List.of(a, b)) {
            ClassLoader guard = router.hooksFor(shapeOf(djl)).getClass().getClassLoader();
            assertThat(guard).isInstanceOf(GuardClassLoader.class);
            assertThat(guard.getParent()).isSameAs(djl);
            Class<?> trainer = Class.forName("ai.djl.training.Trainer", false, djl);
            assertThat(trainer.getClassLoader()).isSameAs(djl);
            // the DJL adapter is GradGuard's own copy in that guard loader, and its signatures name that DJL
            Class<?> session = Class.forName("io.gradguard.djl.internal.DjlGuardSession", false, guard);
            assertThat(session.getClassLoader()).isSameAs(guard);
            Method prepare = session.getMethod("prepare", trainer, boolean.class);
            assertThat(prepare.getParameterTypes()[0]).isSameAs(trainer);
            assertThat(Class.forName("io.gradguard.core.GuardConfig", false, guard).getClassLoader()).isSameAs(guard);
            // and the dispatch it implements is the agent's one
            assertThat(Class.forName(DISPATCH, false, guard)).isSameAs(AgentDispatch.class);
        }
        // a DJL object goes to its own guard: backward() on a non-array is a no-op there, not an error
        hooksA.backward(inA);
        hooksB.trainerClosed(inB);
    }

    @Test
    void theLoaderCheckAdmitsWhatTheAdviceCanReachAndNamesTheRest() throws Exception {
        DjlLoaderCheck check = new DjlLoaderCheck(() -> true, "cfg");
        URLClassLoader good = djlLoader("good");
        URLClassLoader isolated = loader("isolated", ClassLoader.getPlatformClassLoader(), e -> djlApi(e) || slf4j(e));
        URLClassLoader noSlf4j = loader("no-slf4j", new OnlyDispatch(), ClassLoaderRoutingTest::djlApi);
        URLClassLoader noDjl = loader("no-djl", new OnlyDispatch(), ClassLoaderRoutingTest::slf4j);

        PrintStream stderr = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertThat(check.foundElsewhere()).isFalse();
            assertThat(check.matches(noDjl)).isFalse();
            assertThat(check.foundElsewhere()).as("a loader without DJL is no find").isFalse();
            assertThat(check.matches(good)).isTrue();
            assertThat(check.matches(good)).isTrue();
            assertThat(check.matches(isolated)).isFalse();
            assertThat(check.matches(noSlf4j)).isFalse();
            assertThat(check.matches(isolated)).isFalse();
            assertThat(check.matches(ClassLoader.getSystemClassLoader())).as("the start-up verdict").isTrue();
            assertThat(new DjlLoaderCheck(() -> false, "cfg").matches(ClassLoader.getSystemClassLoader())).isFalse();
            assertThat(check.matches(null)).isFalse();
        } finally {
            System.setErr(stderr);
        }
        assertThat(check.foundElsewhere()).isTrue();
        List<String> lines = buf.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).as("one line per loader with DJL, none for the one without").hasSize(3);
        assertThat(lines.get(0)).startsWith("GradGuard agent 0.1.0: guarding DJL trainers in class loader java.net.URLClassLoader@")
                .endsWith(" 'good': cfg");
        assertThat(lines.get(1)).startsWith("GradGuard agent: the DJL in class loader java.net.URLClassLoader@")
                .contains(" 'isolated' cannot be guarded: the loader does not delegate to the class loader of the agent jar")
                .endsWith("(found no io.gradguard.agent.AgentDispatch) -- its trainers run unguarded");
        assertThat(lines.get(2)).contains(" 'no-slf4j' cannot be guarded: SLF4J (org.slf4j:slf4j-api) is not visible from it");
    }
}
