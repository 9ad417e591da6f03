package dev.byop.testkit;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * What one scripted step does when byop calls it: succeed, fail with a message, succeed after a delay, or hang until
 * the job is cancelled (or timed out). A slow or hanging step stops at once when the job is cancelled.
 *
 * @param kind what happens
 * @param delay how long the step takes before it succeeds or fails (zero for at once)
 * @param message the failure message for {@link Kind#FAIL}, else null
 */
public record Outcome(Kind kind, Duration delay, @Nullable String message) {
  private static final Outcome SUCCEED = new Outcome(Kind.SUCCEED, Duration.ZERO, null);

  /** What a step does. */
  public enum Kind { SUCCEED, FAIL, HANG }

  public Outcome {
    if (delay.isNegative()) throw new IllegalArgumentException("delay must not be negative: " + delay);
    if ((kind == Kind.FAIL) != (message != null)) {
      throw new IllegalArgumentException("a message is given for FAIL and only for FAIL");
    }
  }

  /** The step succeeds at once (what every step does unless scripted otherwise). */
  public static Outcome succeed() {
    return SUCCEED;
  }

  /** The step fails at once with {@code message} (the provider's own exception type: build, registry, preview). */
  public static Outcome fail(String message) {
    return new Outcome(Kind.FAIL, Duration.ZERO, message);
  }

  /** The step succeeds after {@code delay}, unless the job is cancelled first. */
  public static Outcome slow(Duration delay) {
    return new Outcome(Kind.SUCCEED, delay, null);
  }

  /** The step waits until the job is cancelled (by the test, or by byop's job timeout) and then stops. */
  public static Outcome hang() {
    return new Outcome(Kind.HANG, Duration.ZERO, null);
  }
}
