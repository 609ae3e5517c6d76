package io.gradguard.core;

import io.gradguard.core.diagnose.RunDiagnosis;
import java.io.Serializable;

/**
 * GradGuard's deliberate halt of a run it cannot save: the one exception the guard lets into a training
 * run. Each engine throws its own exception type (DJL's is a {@code TrainingDivergedException}, so that DJL's
 * own handlers catch it); every one implements this interface, so engine-neutral code reads the step, the
 * reason and the diagnosis alike. The exception holds a {@link Details}, whose {@link Details#message()} is
 * its message.
 */
public interface GuardHalt {

    /** @return what the guard recorded when it halted the run */
    Details details();

    /** @return the step at which the run was halted */
    default long step() {
        return details().step();
    }

    /** @return what went wrong and what to change (the first line of the message) */
    default String reason() {
        return details().reason();
    }

    /**
     * @return the guard's diagnosis of the run: where it started, what in the model or data made it likely,
     *     and the learning rate, warm-up and clip threshold to use (null when not available)
     */
    default RunDiagnosis diagnosis() {
        return details().diagnosis();
    }

    /**
     * The particulars of one halt. Serializable with its exception; the diagnosis is not serialized (a
     * deserialized halt has none).
     */
    final class Details implements Serializable {

        private static final long serialVersionUID = 1L;

        private final long step;
        private final String reason;
        private final transient RunDiagnosis diagnosis;

        /**
         * @param step the step at which the run was halted
         * @param reason what went wrong and what to change
         * @param diagnosis the guard's diagnosis of the run (appended to the message), or null
         */
        public Details(long step, String reason, RunDiagnosis diagnosis) {
            this.step = step;
            this.reason = reason;
            this.diagnosis = diagnosis;
        }

        /** @return the step at which the run was halted */
        public long step() {
            return step;
        }

        /** @return what went wrong and what to change */
        public String reason() {
            return reason;
        }

        /** @return the guard's diagnosis of the run, or null */
        public RunDiagnosis diagnosis() {
            return diagnosis;
        }

        /** @return the exception's message: the reason, then the diagnosis's text below it when there is one */
        public String message() {
            return diagnosis == null ? reason : reason + "\n" + diagnosis.text();
        }

        @Override
        public String toString() {
            return "halt at step " + step + ": " + reason;
        }
    }
}
