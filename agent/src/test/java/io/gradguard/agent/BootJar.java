package io.gradguard.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import org.springframework.boot.loader.launch.JarLauncher;

/**
 * Writes a Spring Boot executable jar laid out as {@code spring-boot-maven-plugin}'s {@code repackage}
 * lays it out: Boot's real launcher classes (from {@code spring-boot-loader}, unpacked at the root),
 * {@code Main-Class: JarLauncher} and {@code Start-Class} in the manifest, the app's classes under
 * {@code BOOT-INF/classes/}, its libraries as nested jars under {@code BOOT-INF/lib/}, stored uncompressed
 * as Boot requires, and {@code BOOT-INF/classpath.idx} giving their order.
 */
final class BootJar {

    private BootJar() {}

    /**
     * @param jar where to write the executable jar
     * @param startClass the app's main class
     * @param classes the folder of the app's compiled classes
     * @param libs the app's libraries: jars, or folders of classes (packed into a jar first)
     * @return {@code jar}
     */
    static Path write(Path jar, String startClass, Path classes, List<Path> libs) {
        Path loader = loaderJar();
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.put(Attributes.Name.MAIN_CLASS, JarLauncher.class.getName());
        a.putValue("Start-Class", startClass);
        a.putValue("Spring-Boot-Classes", "BOOT-INF/classes/");
        a.putValue("Spring-Boot-Lib", "BOOT-INF/lib/");
        a.putValue("Spring-Boot-Classpath-Index", "BOOT-INF/classpath.idx");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), m);
                JarFile boot = new JarFile(loader.toFile())) {
            // the launcher: every class of spring-boot-loader, at the root
            for (JarEntry e : Collections.list(boot.entries())) {
                if (!e.getName().startsWith("META-INF/")) {
                    out.putNextEntry(new JarEntry(e.getName()));
                    try (InputStream in = boot.getInputStream(e)) {
                        in.transferTo(out);
                    }
                    out.closeEntry();
                }
            }
            for (String dir : List.of("BOOT-INF/", "BOOT-INF/classes/", "BOOT-INF/lib/")) {
                out.putNextEntry(new JarEntry(dir));
                out.closeEntry();
            }
            addTree(out, classes, "BOOT-INF/classes/");
            StringBuilder index = new StringBuilder();
            for (int i = 0; i < libs.size(); i++) {
                Path lib = libs.get(i);
                Path j = Files.isDirectory(lib) ? packed(lib, Files.createTempFile(jar.getParent(), "classes-" + i + "-", ".jar")) : lib;
                String name = "BOOT-INF/lib/" + (Files.isDirectory(lib) ? "classes-" + i + ".jar" : j.getFileName());
                stored(out, name, j);
                index.append("- \"").append(name).append("\"\n");
            }
            out.putNextEntry(new JarEntry("BOOT-INF/classpath.idx"));
            out.write(index.toString().getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        } catch (IOException e) {
            throw new UncheckedIOException("writing the Boot jar " + jar + " failed", e);
        }
        return jar;
    }

    /** @return the spring-boot-loader jar on the test class path */
    static Path loaderJar() {
        try {
            Path p = Path.of(JarLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (!Files.isRegularFile(p)) {
                throw new IllegalStateException("Spring Boot's launcher was loaded from " + p + ", not from a jar");
            }
            return p;
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A nested jar: STORED, so Boot's launcher reads it in place, with its size and CRC known up front. */
    private static void stored(JarOutputStream out, String name, Path file) throws IOException {
        CRC32 crc = new CRC32();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                crc.update(buf, 0, n);
            }
        }
        JarEntry e = new JarEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(Files.size(file));
        e.setCompressedSize(Files.size(file));
        e.setCrc(crc.getValue());
        out.putNextEntry(e);
        Files.copy(file, out);
        out.closeEntry();
    }

    private static void addTree(JarOutputStream out, Path root, String prefix) throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.filter(Files::isRegularFile).sorted().forEach(files::add);
        }
        for (Path f : files) {
            out.putNextEntry(new JarEntry(prefix + root.relativize(f).toString().replace('\\', '/')));
            Files.copy(f, out);
            out.closeEntry();
        }
    }

    /** Packs a folder of classes (a reactor module's target/classes) into a jar. */
    private static Path packed(Path dir, Path jar) throws IOException {
        try (OutputStream o = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(o)) {
            addTree(out, dir, "");
        }
        return jar;
    }
}
