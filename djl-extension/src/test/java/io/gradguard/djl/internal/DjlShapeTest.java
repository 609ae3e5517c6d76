package io.gradguard.djl.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.core.internal.Fields;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The DJL on the class path has every field {@link DjlShape} lists (the fields GradGuard reads by reflection),
 * required and optional alike, and no field is listed as both.
 */
class DjlShapeTest {

    @Test
    void theDjlWeBuildAgainstHasTheShapeGradGuardKnows() throws Exception {
        for (Map<String, List<String>> shape : List.of(DjlShape.REQUIRED, DjlShape.OPTIONAL, DjlShape.DOCTOR)) {
            for (Map.Entry<String, List<String>> e : shape.entrySet()) {
                Class<?> owner = Class.forName(e.getKey());
                assertThat(Fields.missing(owner, e.getValue())).as(e.getKey()).isEmpty();
            }
        }
        assertThat(DjlShape.REQUIRED).containsKeys(DjlShape.TRAINER, DjlShape.PARAMETER_STORE);
        assertThat(DjlShape.OPTIONAL).containsKeys(DjlShape.LOCAL_PARAMETER_SERVER, DjlShape.OPTIMIZER);
    }

    @Test
    void noFieldIsBothRequiredAndOptional() {
        DjlShape.OPTIONAL.forEach((owner, fields) ->
                assertThat(DjlShape.REQUIRED.getOrDefault(owner, List.of())).as(owner).doesNotContainAnyElementsOf(fields));
    }
}
