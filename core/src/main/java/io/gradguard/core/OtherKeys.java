package io.gradguard.core;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Keys that another GradGuard component reads from the same sources as the guard: the Java agent's own
 * switches. The core names none of them. A component lists its keys, one a line ({@code #} starts a comment),
 * in a {@value #RESOURCE} resource of its jar; the guard's sources then leave those keys to it instead of
 * rejecting them as unknown, and name them among the known keys. So {@code -Dgradguard.<agent key>} does not
 * break a guard that the application builds itself from the environment while the agent is attached.
 */
final class OtherKeys {

    /** The resource each component lists its keys in. */
    static final String RESOURCE = "META-INF/gradguard/config-keys";

    private static volatile Set<String> found;

    private OtherKeys() {}

    /**
     * @return the keys that the components visible to the core's class loader declared, in the order found;
     *     read once, on first use
     * @throws UncheckedIOException when a resource cannot be read (and again on the next call)
     */
    static Set<String> keys() {
        Set<String> keys = found;
        if (keys == null) {
            ClassLoader loader = OtherKeys.class.getClassLoader();
            keys = find(loader == null ? ClassLoader.getSystemClassLoader() : loader);
            found = keys;
        }
        return keys;
    }

    /**
     * @param loader the class loader whose resources to read
     * @return the keys that the components visible to it declared
     * @throws UncheckedIOException when a resource cannot be read
     */
    static Set<String> find(ClassLoader loader) {
        Set<String> keys = new LinkedHashSet<>();
        try {
            Enumeration<URL> urls = loader.getResources(RESOURCE);
            while (urls.hasMoreElements()) {
                try (BufferedReader r = new BufferedReader(
                        new InputStreamReader(urls.nextElement().openStream(), StandardCharsets.UTF_8))) {
                    r.lines().map(String::trim).filter(l -> !l.isEmpty() && !l.startsWith("#")).forEach(keys::add);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("GradGuard could not read " + RESOURCE, e);
        }
        return Collections.unmodifiableSet(keys);
    }
}
