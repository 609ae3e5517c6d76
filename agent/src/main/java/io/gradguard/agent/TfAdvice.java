package io.gradguard.agent;

import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * Advice for TensorFlow Java: {@code Optimizer.computeGradients} / {@code applyGradients} and
 * {@code Session.Runner.run}. Static, stateless, delegating to {@link AgentDispatch}.
 */
public final class TfAdvice {

    private TfAdvice() {}

    /** On {@code Optimizer.computeGradients(loss)}'s exit: remember the loss. */
    public static final class ComputeGradients {
        private ComputeGradients() {}

        /**
         * @param optimizer the optimizer
         * @param loss the loss
         */
        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.This Object optimizer, @Advice.Argument(0) Object loss) {
            AgentDispatch.tfComputeGradients(optimizer, loss);
        }
    }

    /** Around {@code Optimizer.applyGradients(gradsAndVars, name)}: build the guarded update instead. */
    public static final class ApplyGradients {
        private ApplyGradients() {}

        /**
         * @param optimizer the optimizer
         * @param gradsAndVars the gradients
         * @param name the train op's name
         * @return the guarded train op (the body is skipped), or null to run the body
         */
        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
        public static Object enter(@Advice.This Object optimizer, @Advice.Argument(0) Object gradsAndVars,
                @Advice.Argument(1) Object name) {
            return AgentDispatch.tfApplyGradients(optimizer, gradsAndVars, name);
        }

        /**
         * @param guarded what {@link #enter} returned
         * @param returned the method's return value, replaced by the guarded train op
         */
        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.Enter Object guarded,
                @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object returned) {
            if (guarded != null) {
                returned = guarded;
            }
        }
    }

    /** Around {@code Session.Runner.run()}: feed the plan, fetch the numbers, act on them. */
    public static final class Run {
        private Run() {}

        /**
         * @param runner the runner
         * @return the run in flight, or null when it does not run a guarded train op
         */
        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static Object enter(@Advice.This Object runner) {
            return AgentDispatch.tfBeforeRun(runner);
        }

        /**
         * @param runner the runner
         * @param pending what {@link #enter} returned
         * @param result the run's result
         * @param thrown what the run throws; replaced by a deliberate halt
         */
        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.This Object runner, @Advice.Enter Object pending,
                @Advice.Return(typing = Assigner.Typing.DYNAMIC) Object result,
                @Advice.Thrown(readOnly = false) Throwable thrown) {
            if (pending != null) {
                Throwable halt = AgentDispatch.tfAfterRun(runner, pending, result, thrown);
                if (halt != null) {
                    thrown = halt;
                }
            }
        }
    }
}
