import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An app whose own class path has no DJL: it builds a URLClassLoader (parent: the system class loader) over
 * the jars listed in a file, one a line, and runs a main class from it, as plugin hosts and app servers do.
 * Args: class-path-file main-class args...
 */
public class ChildLoaderApp {
    public static void main(String[] args) throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            if (!line.isBlank()) {
                urls.add(new File(line.trim()).toURI().toURL());
            }
        }
        try (URLClassLoader loader = new URLClassLoader("djl-app", urls.toArray(URL[]::new),
                ChildLoaderApp.class.getClassLoader())) {
            // DJL finds its engines through the context class loader, as in any container
            Thread.currentThread().setContextClassLoader(loader);
            System.out.println("DJL LOADER " + Class.forName("ai.djl.training.Trainer", false, loader).getClassLoader());
            Method main = loader.loadClass(args[1]).getMethod("main", String[].class);
            main.invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
        }
    }
}
