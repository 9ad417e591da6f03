package dev.byop.registry;

import dev.byop.core.ValidationException;
import java.time.Duration;

/**
 * How often and how long a registry request is retried after a connection error or a 5xx answer; 4xx answers are
 * never retried. Both bounds apply: whichever is reached first ends the retries.
 *
 * @param maxAttempts total attempts including the first, at least 1
 * @param initialBackoff the wait before the second attempt; it doubles each time
 * @param maxBackoff the longest single wait
 * @param maxElapsed no new attempt starts after this much time since the first
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff, Duration maxElapsed) {
  public RetryPolicy {
    if (maxAttempts < 1) throw new ValidationException("retry.maxAttempts", maxAttempts, "must be at least 1");
    if (initialBackoff.isNegative() || maxBackoff.isNegative() || maxElapsed.isNegative()) {
      throw new ValidationException("retry durations", null, "must not be negative");
    }
  }

  /** Four attempts, 250 ms doubling up to 4 s, within 30 s. */
  public static RetryPolicy defaults() {
    return new RetryPolicy(4, Duration.ofMillis(250), Duration.ofSeconds(4), Duration.ofSeconds(30));
  }

  /** One attempt only. */
  public static RetryPolicy none() {
    return new RetryPolicy(1, Duration.ZERO, Duration.ZERO, Duration.ZERO);
  }

  /** The wait before attempt {@code attempt + 1} (attempt counts from 1), without jitter. */
  public Duration backoff(int attempt) {
    long ms = initialBackoff.toMillis();
    for (int i = 1; i < attempt && ms < maxBackoff.toMillis(); i++) ms *= 2;
    return Duration.ofMillis(Math.min(ms, maxBackoff.toMillis()));
  }
}
