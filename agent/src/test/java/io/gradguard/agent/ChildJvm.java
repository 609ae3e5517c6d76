package io.gradguard.agent;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/** Compiles the sample apps of {@code src/test/resources/apps} and runs them in child JVMs, with or without the agent. */
final class ChildJvm {

    /** What a child JVM did. */
    record Run(int exit, String out, String err) {

        Float result() {
            return out.lines().filter(l -> l.startsWith("RESULT ")).map(l -> Float.parseFloat(l.substring(7).trim()))
                    .findFirst().orElse(null);
        }

        boolean diverged() {
            return out.lines().anyMatch(l -> l.startsWith("DIVERGED "));
        }

        String describe() {
            return "exit " + exit + "\n--- stdout\n" + out + "\n--- stderr (tail)\n" + tail(err, 3000);
        }
    }

    private static String tail(String s, int n) {
        return s.length() <= n ? s : s.substring(s.length() - n);
    }

    static Path agentJar() {
        Path jar = Path.of(System.getProperty("gradguard.agent.jar", "target/gradguard-agent.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("the agent jar " + jar + " is missing: run ./mvnw package first");
        }
        return jar;
    }

    /** The test class path minus GradGuard's own classes and the test tools: what an app would have. */
    static List<String> appClassPath(boolean withDjl, boolean withGradGuard) {
        List<String> out = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String n = e.replace('\\', '/');
            boolean gradguard = n.contains("/core/target/") || n.contains("/djl-extension/target/")
                    || n.contains("/tensorflow-extension/target/") || n.contains("gradguard-core")
                    || n.contains("gradguard-djl") || n.contains("gradguard-tensorflow") || n.contains("/agent/target/");
            boolean tool = n.contains("junit") || n.contains("assertj") || n.contains("opentest4j")
                    || n.contains("apiguardian") || n.contains("surefire") || n.contains("failsafe")
                    || n.contains("byte-buddy") || n.contains("jackson") || n.contains("spring-boot-loader");
            // "withDjl" stands for the training engines: DJL, TensorFlow Java and the scenario zoo
            boolean djl = n.contains("/ai/djl/") || n.contains("/org/tensorflow/") || n.contains("/org/bytedeco/")
                    || n.contains("test-models") || n.contains("gradguard-test-models");
            if (tool || (gradguard && !withGradGuard) || (djl && !withDjl)) {
                continue;
            }
            out.add(e);
        }
        return out;
    }

    /** Compiles every app source into {@code dir} against the app class path (with GradGuard, for OwnGuardApp). */
    static Path compileApps(Path dir) {
        return compile(Path.of("src/test/resources/apps"), dir, appClassPath(true, true));
    }

    /**
     * Compiles every {@code .java} file of one folder.
     *
     * @param src the folder of sources
     * @param dir where the classes go
     * @param classPath what they compile against
     * @return {@code dir}
     */
    static Path compile(Path src, Path dir, List<String> classPath) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        try {
            List<String> files;
            try (var s = Files.list(src)) {
                files = s.map(Path::toString).filter(f -> f.endsWith(".java")).collect(Collectors.toList());
            }
            List<String> args = new ArrayList<>(List.of("-d", dir.toString(), "-cp",
                    String.join(File.pathSeparator, classPath)));
            args.addAll(files);
            int rc = javac.run(null, null, null, args.toArray(String[]::new));
            if (rc != 0) {
                throw new IllegalStateException("compiling the sources of " + src + " failed");
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Run run(Path apps, boolean withDjl, boolean withGradGuard, String agentArgs, String main, String... args) {
        try {
            Process p = start(apps, withDjl, withGradGuard, agentArgs, main, args);
            return finish(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A started child JVM and the files its output goes to. */
    record Started(Process process, Path out, Path err) {}

    private static final ThreadLocal<Started> LAST = new ThreadLocal<>();

    static Process start(Path apps, boolean withDjl, boolean withGradGuard, String agentArgs, String main, String... args)
            throws IOException {
        List<String> cp = new ArrayList<>(appClassPath(withDjl, withGradGuard));
        cp.add(0, apps.toString());
        List<String> tail = new ArrayList<>(List.of("-cp", String.join(File.pathSeparator, cp), main));
        tail.addAll(Arrays.asList(args));
        return start(agentArgs, tail);
    }

    /**
     * Runs {@code java [-javaagent:...] <the usual flags> <tail>} to its end.
     *
     * @param agentArgs the agent arguments ("" for none), or null to run without the agent
     * @param tail what follows the flags: {@code -cp ... Main args} or {@code -jar app.jar args}
     * @return what the child JVM did
     */
    static Run run(String agentArgs, List<String> tail) {
        try {
            return finish(start(agentArgs, tail));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Process start(String agentArgs, List<String> tail) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (agentArgs != null) {
            cmd.add("-javaagent:" + agentJar().toAbsolutePath() + (agentArgs.isEmpty() ? "" : "=" + agentArgs));
        }
        cmd.add("-Dai.djl.offline=true");
        cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        cmd.add("-Xmx2g");
        cmd.addAll(tail);
        Path out = Files.createTempFile("child", ".out");
        Path err = Files.createTempFile("child", ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        LAST.set(new Started(p, out, err));
        return p;
    }

    /** @return the output file of the child last started on this thread */
    static Path lastOut() {
        return LAST.get().out();
    }

    static Run finish(Process p) {
        Started s = LAST.get();
        try {
            if (!p.waitFor(240, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("child JVM timed out");
            }
            return new Run(p.exitValue(), Files.readString(s.out(), StandardCharsets.UTF_8),
                    Files.readString(s.err(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
