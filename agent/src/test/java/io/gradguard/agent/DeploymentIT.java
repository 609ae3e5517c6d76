package io.gradguard.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gradguard.models.Scenarios;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent where DJL is not on the system class path: a real Spring Boot executable jar started by Boot's
 * own {@code JarLauncher} ({@code java -javaagent:... -jar app.jar}), and an app that loads DJL through a
 * {@code URLClassLoader} of its own. The app is the hand-written loop of {@code LoopApp} on the deep MLP at
 * five times its tuned learning rate: unguarded it ends NaN, guarded it must end finite, with the guard's
 * rollback in its log, in the same test.
 */
class DeploymentIT {

    private static final String SCENARIO = "deep-mlp-sgd-momentum-lr5x";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path work;

    @TempDir
    Path dir;

    private static Path apps;
    private static Path launchers;
    private static List<Path> libs;

    @BeforeAll
    static void compile() throws Exception {
        apps = ChildJvm.compileApps(Files.createDirectory(work.resolve("apps")));
        launchers = ChildJvm.compile(Path.of("src/test/resources/launchers"), Files.createDirectory(work.resolve("launchers")),
                List.of());
        libs = new ArrayList<>();
        for (String e : ChildJvm.appClassPath(true, false)) {
            String n = e.replace('\\', '/');
            // LoopApp needs DJL with PyTorch, the scenario zoo and SLF4J; not TensorFlow Java
            if (!n.contains("/org/tensorflow/") && !n.contains("/org/bytedeco/") && !n.contains("/com/google/protobuf/")) {
                libs.add(Path.of(e));
            }
        }
        assertThat(libs.stream().map(Path::toString)).as("the app's libraries")
                .anyMatch(p -> p.contains("pytorch-native-cpu")).anyMatch(p -> p.contains("pytorch-jni"))
                .anyMatch(p -> p.contains("pytorch-engine")).anyMatch(p -> p.contains("/ai/djl/api/"))
                .anyMatch(p -> p.contains("slf4j-api"));
    }

    private static List<JsonNode> log(Path p) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(p)) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    /** Unguarded NaN; guarded finite, near the tuned run's loss, and the guard's log shows it rolled back. */
    private void assertRescued(ChildJvm.Run bare, ChildJvm.Run guarded, Path log, String loaderClass) throws Exception {
        assertThat(bare.result()).as(bare.describe()).isNotNull().isNaN();
        assertThat(bare.err()).doesNotContain("GradGuard");

        assertThat(guarded.exit()).as(guarded.describe()).isZero();
        float reference = Scenarios.byName(SCENARIO).documentedReferenceLoss();
        assertThat(guarded.result()).as(guarded.describe()).isNotNull().isFinite().isLessThanOrEqualTo(2 * reference);
        assertThat(guarded.err()).as(guarded.describe())
                .contains("GradGuard agent 0.1.0: guarding DJL trainers in class loader " + loaderClass)
                .doesNotContain("nothing to guard").doesNotContain("internal error").doesNotContain("cannot guard");
        List<JsonNode> lines = log(log);
        assertThat(lines.get(0).path("attachment").asText()).isEqualTo("agent");
        assertThat(lines).as("the guard acted").anyMatch(n -> "rollback".equals(n.path("kind").asText()));
        assertThat(lines.stream().filter(n -> "step".equals(n.path("type").asText())).count()).isEqualTo(300);
        assertThat(lines.get(lines.size() - 1).path("type").asText()).isEqualTo("end");
    }

    @Test
    void springBootExecutableJarExplodesUnguardedAndIsRescuedByTheAgent() throws Exception {
        Path jar = BootJar.write(dir.resolve("app.jar"), "LoopApp", apps, libs);
        try (java.util.jar.JarFile j = new java.util.jar.JarFile(jar.toFile())) {
            assertThat(j.getManifest().getMainAttributes().getValue("Main-Class"))
                    .isEqualTo("org.springframework.boot.loader.launch.JarLauncher");
            assertThat(j.getEntry("ai/djl/training/Trainer.class")).as("DJL only nested, never at the root").isNull();
        }
        ChildJvm.Run bare = ChildJvm.run(null, List.of("-jar", jar.toString(), SCENARIO, "EXPLODING"));
        Path log = dir.resolve("boot.jsonl");
        ChildJvm.Run guarded = ChildJvm.run("log=" + log, List.of("-jar", jar.toString(), SCENARIO, "EXPLODING"));
        assertRescued(bare, guarded, log, "org.springframework.boot.loader.launch.LaunchedClassLoader@");
    }

    @Test
    void appThatLoadsDjlThroughItsOwnUrlClassLoaderIsRescuedByTheAgent() throws Exception {
        Path cp = dir.resolve("djl-class-path.txt");
        List<String> entries = new ArrayList<>();
        entries.add(apps.toString());
        libs.forEach(l -> entries.add(l.toString()));
        Files.write(cp, entries);
        List<String> tail = List.of("-cp", launchers.toString(), "ChildLoaderApp", cp.toString(), "LoopApp", SCENARIO, "EXPLODING");
        ChildJvm.Run bare = ChildJvm.run(null, tail);
        assertThat(bare.out()).as(bare.describe()).contains("DJL LOADER java.net.URLClassLoader@");
        Path log = dir.resolve("child.jsonl");
        ChildJvm.Run guarded = ChildJvm.run("log=" + log, tail);
        assertRescued(bare, guarded, log, "java.net.URLClassLoader@");
        assertThat(guarded.err()).contains(" 'djl-app'");
    }
}
