package io.gradguard.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Fields}: one cached look-up per (class, name), null or false where a field is missing, and the shape check. */
class FieldsTest {

    static class Base {
        private int count = 3;
        private static String shared = "static";
    }

    static final class Sub extends Base {
        private String name = "sub";
        private final long fixed = 7;
    }

    @Test
    void readsAndWritesAPrivateFieldAndCachesItsLookUp() {
        Sub s = new Sub();
        assertThat(Fields.read(s, Sub.class, "name")).isEqualTo("sub");
        assertThat(Fields.write(s, Sub.class, "name", "changed")).isTrue();
        assertThat(Fields.read(s, Sub.class, "name")).isEqualTo("changed");
        assertThat(Fields.read(s, Base.class, "count")).isEqualTo(3);
        Field f = Fields.find(Sub.class, "name");
        assertThat(f).isNotNull().isSameAs(Fields.find(Sub.class, "name"));
        assertThat(f.canAccess(s)).isTrue();
    }

    @Test
    void aMissingFieldOrAWrongTargetGivesNullOrFalseNeverAnException() {
        Sub s = new Sub();
        assertThat(Fields.find(Sub.class, "nope")).isNull();
        assertThat(Fields.read(s, Sub.class, "nope")).isNull();
        assertThat(Fields.write(s, Sub.class, "nope", 1)).isFalse();
        // declared on the superclass, not on Sub: look-ups are by the declaring class, as getDeclaredField is
        assertThat(Fields.read(s, Sub.class, "count")).isNull();
        assertThat(Fields.read("not a Sub", Sub.class, "name")).isNull();
        assertThat(Fields.write(s, Sub.class, "name", 42)).isFalse();
        assertThat(Fields.read(s, Sub.class, "name")).isEqualTo("sub");
    }

    @Test
    void instanceFieldsListsTheClassChainSubclassFirstWithoutStatics() {
        List<String> names = Fields.instanceFields(Sub.class).stream().map(Field::getName).toList();
        assertThat(names).containsExactly("name", "fixed", "count");
        assertThat(Fields.instanceFields(Sub.class)).isSameAs(Fields.instanceFields(Sub.class));
    }

    @Test
    void theShapeCheckNamesTheFieldsAClassLacksInTheOrderAsked() {
        assertThat(Fields.missing(Sub.class, List.of("name", "fixed"))).isEmpty();
        assertThat(Fields.missing(Sub.class, List.of("gone", "name", "count"))).containsExactly("gone", "count");
    }
}
