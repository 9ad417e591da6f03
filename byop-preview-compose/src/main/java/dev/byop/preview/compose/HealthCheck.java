package dev.byop.preview.compose;

import dev.byop.core.ValidationException;
import dev.byop.core.internal.Checks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A container health check in exec form ({@code CMD} followed by the argument list), never a shell line.
 *
 * @param command the program and its arguments, run inside the container
 * @param interval time between checks
 * @param timeout how long one check may take
 * @param retries failures in a row before the container is unhealthy
 * @param startPeriod grace period after start in which failures do not count
 */
public record HealthCheck(List<String> command, Duration interval, Duration timeout, int retries,
    Duration startPeriod) {

  public HealthCheck {
    command = Checks.list(command);
    if (command.isEmpty()) throw new ValidationException("healthcheck.command", "[]", "needs a program to run");
    for (String arg : command) Checks.noNul("healthcheck.command", arg);
    positive("healthcheck.interval", interval);
    positive("healthcheck.timeout", timeout);
    Checks.notNull("healthcheck.startPeriod", startPeriod);
    if (startPeriod.isNegative()) throw new ValidationException("healthcheck.startPeriod", startPeriod, "must not be negative");
    if (retries < 1) throw new ValidationException("healthcheck.retries", retries, "must be at least 1");
  }

  private static void positive(String field, Duration d) {
    Checks.notNull(field, d);
    if (d.isNegative() || d.isZero()) throw new ValidationException(field, d, "must be positive");
  }

  /**
   * Checks an HTTP path inside the container with {@code wget} (present in busybox and most distributions), every
   * second, healthy once it answers 2xx/3xx.
   */
  public static HealthCheck httpGet(int port, String path) {
    Checks.port("healthcheck port", port);
    return new HealthCheck(List.of("wget", "-q", "-O", "/dev/null", "http://127.0.0.1:" + port + path),
        Duration.ofSeconds(1), Duration.ofSeconds(3), 30, Duration.ofSeconds(1));
  }

  /** The compose {@code test} list: {@code CMD} and the command. */
  public List<String> composeTest() {
    List<String> out = new ArrayList<>();
    out.add("CMD");
    out.addAll(command);
    return out;
  }
}
