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
}
