package io.gradguard.agent;

import net.bytebuddy.asm.Advice;

/** Advice for {@code ai.djl.training.Trainer}: static, stateless, delegating to {@link AgentDispatch}. */
public final class TrainerAdvice {

    private TrainerAdvice() {}

    /** On every constructor's exit: a new trainer to guard. */
    public static final class Constructed {
        private Constructed() {}

        /**
         * @param trainer the new trainer
         */
        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.This Object trainer) {
            AgentDispatch.trainerCreated(trainer);
        }
    }

    /** Around {@code step()}: inspect and decide; skip the body for a skipped step; throw a halt. */
    public static final class Step {
        private Step() {}

        /**
         * @param trainer the trainer
         * @return true to skip the body
         */
        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
        public static boolean enter(@Advice.This Object trainer) {
            return AgentDispatch.beforeStep(trainer);
        }

        /**
         * @param trainer the trainer
         * @param thrown what the method throws; replaced by a deliberate halt
         */
        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.This Object trainer, @Advice.Thrown(readOnly = false) Throwable thrown) {
            Throwable halt = AgentDispatch.takeHalt(trainer);
            if (halt != null) {
                thrown = halt;
            }
        }
    }

    /** On {@code close()}: the run ends. */
    public static final class Close {
        private Close() {}

        /**
         * @param trainer the trainer
         */
        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static void enter(@Advice.This Object trainer) {
            AgentDispatch.trainerClosed(trainer);
        }
    }

    /** On {@code GradientCollector.backward(loss)}: remember the loss for the next step. */
    public static final class Backward {
        private Backward() {}

        /**
         * @param loss the loss
         */
        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static void enter(@Advice.Argument(0) Object loss) {
            AgentDispatch.backward(loss);
        }
    }
}
