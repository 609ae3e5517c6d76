package io.gradguard.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.gradguard.djl.internal.DjlShape;
import io.gradguard.tensorflow.internal.TfShape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.FieldVisitor;
import net.bytebuddy.pool.TypePool;
import net.bytebuddy.utility.OpenedClassReader;
import org.junit.jupiter.api.Test;

/**
 * The agent's shape check (at start-up, and in {@link DjlLoaderCheck} for other class loaders) refuses a DJL or
 * a TensorFlow Java only when it lacks a field the guard cannot work without ({@link DjlShape#REQUIRED},
 * {@link TfShape#REQUIRED}); one that lacks only fields with a run-time fallback ({@code OPTIONAL}) is guarded.
 * The engines are the real class files on the test class path with fields taken out.
 */
class ShapeCheckTest {

    @Test
    void theEnginesWeBuildAgainstPass() {
        assertThat(Installer.djlShapeProblems(pool(Map.of()))).isEmpty();
        assertThat(Installer.tensorFlowShapeProblems(pool(Map.of()))).isEmpty();
    }

    @Test
    void anEngineWithoutTheOptionalFieldsIsGuarded() {
        assertThat(Installer.djlShapeProblems(pool(DjlShape.OPTIONAL))).isEmpty();
        assertThat(Installer.tensorFlowShapeProblems(pool(TfShape.OPTIONAL))).isEmpty();
    }

    @Test
    void anEngineWithoutARequiredFieldIsNotGuardedAndTheFieldIsNamed() {
        refusedWithoutEachOf(DjlShape.REQUIRED, Installer::djlShapeProblems);
        refusedWithoutEachOf(TfShape.REQUIRED, Installer::tensorFlowShapeProblems);
    }

    private static void refusedWithoutEachOf(Map<String, List<String>> required,
            Function<TypePool, List<String>> check) {
        required.forEach((owner, fields) -> fields.forEach(field ->
                assertThat(check.apply(pool(Map.of(owner, List.of(field))))).as(owner + "." + field)
                        .containsExactly("field " + owner + "." + field + " is missing")));
    }

    /** The test class path's class files, with the given fields taken out of the classes that declare them. */
    private static TypePool pool(Map<String, List<String>> without) {
        ClassFileLocator classPath = ClassFileLocator.ForClassLoader.of(ShapeCheckTest.class.getClassLoader());
        Map<String, byte[]> changed = new HashMap<>();
        without.forEach((owner, fields) -> changed.put(owner, withoutFields(classPath, owner, fields)));
        return TypePool.Default.of(new ClassFileLocator.Compound(new ClassFileLocator.Simple(changed), classPath));
    }

    private static byte[] withoutFields(ClassFileLocator classPath, String owner, List<String> fields) {
        byte[] original;
        try {
            original = classPath.locate(owner).resolve();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ClassWriter out = new ClassWriter(0);
        int[] removed = {0};
        OpenedClassReader.of(original).accept(new ClassVisitor(OpenedClassReader.ASM_API, out) {
            @Override
            public FieldVisitor visitField(int access, String name, String descriptor, String signature, Object value) {
                if (fields.contains(name)) {
                    removed[0]++;
                    return null;
                }
                return super.visitField(access, name, descriptor, signature, value);
            }
        }, 0);
        assertThat(removed[0]).as("fields taken out of " + owner).isEqualTo(fields.size());
        return out.toByteArray();
    }
}
