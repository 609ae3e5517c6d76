package io.gradguard.tensorflow.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.core.internal.Fields;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The TensorFlow Java on the class path has every field {@link TfShape} lists (the fields GradGuard reads by
 * reflection), required and optional alike, and no field is listed as both.
 */
class TfShapeTest {

    @Test
    void theTensorFlowJavaWeBuildAgainstHasTheShapeGradGuardKnows() throws Exception {
        for (Map<String, List<String>> shape : List.of(TfShape.REQUIRED, TfShape.OPTIONAL)) {
            for (Map.Entry<String, List<String>> e : shape.entrySet()) {
                Class<?> owner = Class.forName(e.getKey());
                assertThat(Fields.missing(owner, e.getValue())).as(e.getKey()).isEmpty();
            }
        }
        assertThat(TfShape.REQUIRED).containsKeys(TfShape.OPTIMIZER, TfShape.RUNNER);
        assertThat(TfShape.OPTIONAL).containsKeys(TfShape.RUNNER);
    }

    @Test
    void noFieldIsBothRequiredAndOptional() {
        TfShape.OPTIONAL.forEach((owner, fields) ->
                assertThat(TfShape.REQUIRED.getOrDefault(owner, List.of())).as(owner).doesNotContainAnyElementsOf(fields));
    }
}
