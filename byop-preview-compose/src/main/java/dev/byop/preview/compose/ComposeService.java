package dev.byop.preview.compose;

import dev.byop.core.ImageReference;
import dev.byop.core.ValidationException;
import dev.byop.core.internal.Checks;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One service of a compose file. Every text value is carried exactly: the writer quotes it for YAML and escapes
 * {@code $} as {@code $$}, so compose never interpolates or interprets it.
 *
 * @param image the image to run (a valid image reference)
 * @param environment environment variables; names {@code [A-Za-z_][A-Za-z0-9_]*}, values any text without NUL
 * @param restart the restart policy
 * @param healthcheck the health check, or null for the image's own
 * @param labels container labels
 * @param networks the keys (in the file's {@code networks}) of the networks it joins
 * @param ports published ports
 */
public record ComposeService(String image, Map<String, String> environment, RestartPolicy restart,
    @Nullable HealthCheck healthcheck, Map<String, String> labels, List<String> networks, List<PortMapping> ports) {

  public ComposeService {
    Checks.notBlank("service.image", image);
    Checks.singleLine("service.image", image);
    ImageReference.parse(image);
    environment = Checks.envMap("service.environment", environment);
    Checks.notNull("service.restart", restart);
    labels = ComposeFile.checkLabels("service.labels", labels);
    networks = Checks.list(networks);
    for (String n : networks) ComposeFile.checkName("service.networks", n);
    ports = Checks.list(ports);
  }

  /** A service running {@code image} with restart {@code unless-stopped} and nothing else set. */
  public static ComposeService of(String image) {
    return new ComposeService(image, Map.of(), RestartPolicy.UNLESS_STOPPED, null, Map.of(), List.of(), List.of());
  }

  public ComposeService withEnvironment(Map<String, String> env) {
    return new ComposeService(image, env, restart, healthcheck, labels, networks, ports);
  }

  public ComposeService withRestart(RestartPolicy r) {
    return new ComposeService(image, environment, r, healthcheck, labels, networks, ports);
  }

  public ComposeService withHealthcheck(@Nullable HealthCheck h) {
    return new ComposeService(image, environment, restart, h, labels, networks, ports);
  }

  public ComposeService withLabels(Map<String, String> l) {
    return new ComposeService(image, environment, restart, healthcheck, l, networks, ports);
  }

  /** These labels added to (and overriding) the existing ones. */
  public ComposeService plusLabels(Map<String, String> more) {
    Map<String, String> m = new LinkedHashMap<>(labels);
    m.putAll(more);
    return withLabels(m);
  }

  public ComposeService withNetworks(List<String> n) {
    return new ComposeService(image, environment, restart, healthcheck, labels, n, ports);
  }

  /** Joins one more network (no-op when already joined). */
  public ComposeService plusNetwork(String network) {
    if (networks.contains(network)) return this;
    List<String> n = new ArrayList<>(networks);
    n.add(network);
    return withNetworks(n);
  }

  public ComposeService withPorts(List<PortMapping> p) {
    return new ComposeService(image, environment, restart, healthcheck, labels, networks, p);
  }

  /** Publishes one more port. */
  public ComposeService plusPort(PortMapping port) {
    List<PortMapping> p = new ArrayList<>(ports);
    p.add(port);
    return withPorts(p);
  }

  static void checkLabelKey(String field, String key) {
    if (key == null || !ComposeFile.LABEL_KEY.matcher(key).matches()) {
      throw new ValidationException(field, Checks.printable(key),
          "label keys must be 1-255 characters of letters, digits, '.', '-', '_' and '/', starting and ending with a "
              + "letter or digit");
    }
  }
}
