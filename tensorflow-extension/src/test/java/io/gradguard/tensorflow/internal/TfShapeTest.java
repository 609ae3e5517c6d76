package io.gradguard.tensorflow.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.core.internal.Fields;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The TensorFlow Java on the class path has every field {@link TfShape} lists (the fields GradGuard reads by reflection). */
class TfShapeTest {

    @Test
    void theTensorFlowJavaWeBuildAgainstHasTheShapeGradGuardKnows() throws Exception {
        for (Map.Entry<String, List<String>> e : TfShape.GUARD.entrySet()) {
            Class<?> owner = Class.forName(e.getKey());
            assertThat(Fields.missing(owner, e.getValue())).as(e.getKey()).isEmpty();
        }
    }
}
