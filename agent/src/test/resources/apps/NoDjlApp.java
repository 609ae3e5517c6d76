/** An app without DJL on its class path. */
public class NoDjlApp {
    public static void main(String[] args) {
        System.out.println("HELLO " + (args.length > 0 ? args[0] : ""));
    }
}
