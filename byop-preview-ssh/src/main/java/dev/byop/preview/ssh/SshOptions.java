package dev.byop.preview.ssh;

import dev.byop.core.ValidationException;
import java.time.Duration;
import java.util.Objects;

/**
 * Timeouts and keep-alive for SSH connections.
 *
 * @param connectTimeout TCP connect plus key exchange and authentication
 * @param commandTimeout default limit for one remote command (image loads use {@link #transferTimeout})
 * @param transferTimeout limit for long streaming commands such as {@code docker load}
 * @param keepAlive interval of SSH keep-alive messages; zero disables them
 */
public record SshOptions(Duration connectTimeout, Duration commandTimeout, Duration transferTimeout, Duration keepAlive) {

  public SshOptions {
    Objects.requireNonNull(connectTimeout, "connectTimeout");
    Objects.requireNonNull(commandTimeout, "commandTimeout");
    Objects.requireNonNull(transferTimeout, "transferTimeout");
    Objects.requireNonNull(keepAlive, "keepAlive");
    if (connectTimeout.isNegative() || connectTimeout.isZero() || commandTimeout.isNegative() || commandTimeout.isZero()
        || transferTimeout.isNegative() || transferTimeout.isZero() || keepAlive.isNegative()) {
      throw new ValidationException("ssh", this, "timeouts must be positive and keep-alive not negative");
    }
  }

  /** 10 s connect, 60 s per command, 15 min per transfer, keep-alive every 15 s. */
  public static SshOptions defaults() {
    return new SshOptions(Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofMinutes(15), Duration.ofSeconds(15));
  }

  /** Copy with another connect timeout. */
  public SshOptions withConnectTimeout(Duration d) {
    return new SshOptions(d, commandTimeout, transferTimeout, keepAlive);
  }

  /** Copy with another command timeout. */
  public SshOptions withCommandTimeout(Duration d) {
    return new SshOptions(connectTimeout, d, transferTimeout, keepAlive);
  }
}
