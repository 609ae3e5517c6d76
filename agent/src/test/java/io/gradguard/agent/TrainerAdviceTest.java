package io.gradguard.agent;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.loading.ClassLoadingStrategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The advice without an agent: a stand-in class with the instrumented methods' shapes is redefined with
 * the real advice and loaded in a child loader; recording hooks stand in for the DJL logic (which the
 * child-JVM tests exercise on the real engine).
 */
class TrainerAdviceTest {

    /** Same shapes as the DJL methods the agent instruments. */
    public static class StandIn {
        public int bodyRuns;

        public StandIn() {}

        public void step() {
            bodyRuns++;
        }

        public void close() {}

        public void backward(Object loss) {}
    }

    static final class Recording implements AgentDispatch.Hooks {
        final List<String> calls = new ArrayList<>();
        boolean skip;
        Throwable halt;
        RuntimeException failWith;

        @Override
        public void trainerCreated(Object trainer) {
            calls.add("created");
        }

        @Override
        public boolean beforeStep(Object trainer) {
            calls.add("step");
            if (failWith != null) {
                throw failWith;
            }
            return skip;
        }

        @Override
        public Throwable takeHalt(Object trainer) {
            Throwable h = halt;
            halt = null;
            return h;
        }

        @Override
        public void backward(Object loss) {
            calls.add("backward:" + loss);
        }

        @Override
        public void trainerClosed(Object trainer) {
            calls.add("closed");
        }
    }

    private final Recording hooks = new Recording();

    @AfterEach
    void uninstall() {
        AgentDispatch.install(null);
    }

    private Object instrumented() throws Exception {
        Class<?> type = new ByteBuddy()
                .redefine(StandIn.class)
                .visit(Advice.to(TrainerAdvice.Constructed.class).on(net.bytebuddy.matcher.ElementMatchers.isConstructor()))
                .visit(Advice.to(TrainerAdvice.Step.class).on(named("step")))
                .visit(Advice.to(TrainerAdvice.Close.class).on(named("close")))
                .visit(Advice.to(TrainerAdvice.Backward.class).on(named("backward")))
                .make()
                .load(new ClassLoader(getClass().getClassLoader()) {}, ClassLoadingStrategy.Default.CHILD_FIRST)
                .getLoaded();
        return type.getConstructor().newInstance();
    }

    private static int bodyRuns(Object o) throws Exception {
        return o.getClass().getField("bodyRuns").getInt(o);
    }

    private static void call(Object o, String method) throws Throwable {
        try {
            o.getClass().getMethod(method).invoke(o);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @Test
    void withoutHooksEverythingRunsUntouched() throws Throwable {
        Object t = instrumented();
        call(t, "step");
        assertThat(bodyRuns(t)).isEqualTo(1);
    }

    @Test
    void aSkippedStepDoesNotRunTheBody() throws Throwable {
        AgentDispatch.install(hooks);
        Object t = instrumented();
        call(t, "step");
        hooks.skip = true;
        call(t, "step");
        assertThat(bodyRuns(t)).isEqualTo(1);
        t.getClass().getMethod("backward", Object.class).invoke(t, "L");
        call(t, "close");
        assertThat(hooks.calls).containsExactly("created", "step", "step", "backward:L", "closed");
    }

    @Test
    void aHaltIsThrownFromStep() throws Throwable {
        AgentDispatch.install(hooks);
        Object t = instrumented();
        hooks.skip = true;
        hooks.halt = new IllegalStateException("halted by the guard");
        assertThatThrownBy(() -> call(t, "step")).isInstanceOf(IllegalStateException.class).hasMessage("halted by the guard");
        assertThat(bodyRuns(t)).isZero();
    }

    @Test
    void aFailingHookNeverReachesTheApp() throws Throwable {
        AgentDispatch.install(hooks);
        Object t = instrumented();
        hooks.failWith = new IllegalStateException("bug in a hook");
        call(t, "step");
        assertThat(bodyRuns(t)).as("fail-open: the body runs").isEqualTo(1);
    }
}
