package dev.byop.preview.compose;

import dev.byop.core.ValidationException;
import dev.byop.core.internal.Checks;
import java.util.regex.Pattern;

/**
 * A published port: {@code hostIp:hostPort:containerPort/protocol}. A host port of 0 lets the engine choose a free
 * one (read it back with {@code docker port}); byop publishes on {@code 127.0.0.1} unless told otherwise.
 *
 * @param hostIp the IPv4 address to bind on the host
 * @param hostPort the host port, or 0 for one chosen by the engine
 * @param containerPort the port inside the container
 * @param protocol {@code tcp} or {@code udp}
 */
public record PortMapping(String hostIp, int hostPort, int containerPort, String protocol) {
  private static final Pattern IPV4 =
      Pattern.compile("((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");

  public PortMapping {
    Checks.notNull("port.hostIp", hostIp);
    if (!IPV4.matcher(hostIp).matches()) {
      throw new ValidationException("port.hostIp", Checks.printable(hostIp), "must be an IPv4 address such as 127.0.0.1");
    }
    if (hostPort != 0) Checks.port("port.hostPort", hostPort);
    Checks.port("port.containerPort", containerPort);
    if (!"tcp".equals(protocol) && !"udp".equals(protocol)) {
      throw new ValidationException("port.protocol", Checks.printable(protocol), "must be tcp or udp");
    }
  }

  /** {@code containerPort} published on a port of 127.0.0.1 that the engine chooses. */
  public static PortMapping loopback(int containerPort) {
    return new PortMapping("127.0.0.1", 0, containerPort, "tcp");
  }

  /** The compose short syntax, e.g. {@code 127.0.0.1::80/tcp}. */
  public String composeValue() {
    return hostIp + ":" + (hostPort == 0 ? "" : Integer.toString(hostPort)) + ":" + containerPort + "/" + protocol;
  }
}
