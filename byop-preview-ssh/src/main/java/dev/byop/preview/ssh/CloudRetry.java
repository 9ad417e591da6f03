package dev.byop.preview.ssh;

import dev.byop.core.ValidationException;
import java.time.Duration;

/**
 * How often a cloud API call is tried and how long it may take (the {@code cloud.retry} keys).
 *
 * @param attempts sends at most, the first included
 * @param firstDelay the back-off cap after the first failure, doubled after each
 * @param maxDelay the largest back-off cap
 * @param window the whole call (attempts and waits) ends within this
 * @param requestTimeout one request's limit, answer included
 */
public record CloudRetry(int attempts, Duration firstDelay, Duration maxDelay, Duration window, Duration requestTimeout) {

  public CloudRetry {
    if (attempts < 1) {
      throw new ValidationException("cloud.retry.attempts", attempts, "must be at least 1");
    }
    for (Duration d : new Duration[] {firstDelay, maxDelay, window, requestTimeout}) {
      if (d.isNegative() || d.isZero()) {
        throw new ValidationException("cloud.retry", d, "delays, window and request timeout must be positive");
      }
    }
  }

  /** 6 attempts, back-off from 500 ms up to 20 s, within 2 minutes; 30 s per request. */
  public static CloudRetry defaults() {
    return new CloudRetry(6, Duration.ofMillis(500), Duration.ofSeconds(20), Duration.ofMinutes(2), Duration.ofSeconds(30));
  }
}
