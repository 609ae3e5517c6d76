package io.gradguard.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.core.diagnose.Finding;
import io.gradguard.core.diagnose.RunDiagnosis;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link GuardHalt.Details}: the halt's message, and what survives serialization with its exception. */
class GuardHaltTest {

    @Test
    void theMessageIsTheReasonThenTheDiagnosisBelowIt() {
        GuardHalt.Details bare = new GuardHalt.Details(41, "rollback budget spent", null);
        assertThat(bare.message()).isEqualTo("rollback budget spent");
        RunDiagnosis d = new RunDiagnosis(42, true, List.of());
        GuardHalt.Details full = new GuardHalt.Details(41, "rollback budget spent", d);
        assertThat(full.message()).isEqualTo("rollback budget spent\n" + d.text());
        GuardHalt halt = () -> full;
        assertThat(halt.step()).isEqualTo(41);
        assertThat(halt.reason()).isEqualTo("rollback budget spent");
        assertThat(halt.diagnosis()).isSameAs(d);
    }

    @Test
    void stepAndReasonSurviveSerializationTheDiagnosisDoesNot() throws Exception {
        GuardHalt.Details d = new GuardHalt.Details(7, "non-finite loss", new RunDiagnosis(8, true, List.<Finding>of()));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(d);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            GuardHalt.Details back = (GuardHalt.Details) in.readObject();
            assertThat(back.step()).isEqualTo(7);
            assertThat(back.reason()).isEqualTo("non-finite loss");
            assertThat(back.diagnosis()).isNull();
        }
    }

    /** An engine's halt built on the base class, as TensorFlow Java's is. */
    private static final class EngineHalt extends GuardHaltException {
        private static final long serialVersionUID = 1L;

        EngineHalt(long step, String reason, RunDiagnosis diagnosis) {
            super(step, reason, diagnosis);
        }
    }

    @Test
    void theBaseExceptionCarriesTheDetailsAsItsMessageAndAcrossSerialization() throws Exception {
        RunDiagnosis diagnosis = new RunDiagnosis(12, true, List.of());
        EngineHalt halt = new EngineHalt(11, "3 consecutive non-finite steps", diagnosis);
        assertThat(halt).isInstanceOf(IllegalStateException.class);
        assertThat(halt.getMessage()).isEqualTo("3 consecutive non-finite steps\n" + diagnosis.text());
        assertThat(halt.step()).isEqualTo(11);
        assertThat(halt.diagnosis()).isSameAs(diagnosis);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(halt);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            GuardHalt back = (GuardHalt) in.readObject();
            assertThat(back.step()).isEqualTo(11);
            assertThat(back.reason()).isEqualTo("3 consecutive non-finite steps");
            assertThat(back.diagnosis()).isNull();
        }
    }
}
