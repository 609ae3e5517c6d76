import ai.djl.training.Trainer;

/** Trains with the future-shaped DJL stub: ten steps of w -= 0.1 * (w - 3). */
public final class FutureDjlApp {
    public static void main(String[] args) {
        try (Trainer t = new Trainer()) {
            for (int i = 0; i < 10; i++) {
                t.step(t.weight() - 3.0);
            }
            System.out.println("RESULT " + t.weight());
        }
    }
}
