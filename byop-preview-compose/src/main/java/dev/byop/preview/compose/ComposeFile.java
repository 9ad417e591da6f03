package dev.byop.preview.compose;

import dev.byop.core.ValidationException;
import dev.byop.core.internal.Checks;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A Docker Compose project as typed values: a project name, services and networks. {@link #toYaml()} writes it with
 * Jackson YAML (never a string template) in the subset of the Compose Specification that both {@code docker-compose}
 * v1.29 and {@code docker compose} v2 accept; the project name is given to compose on the command line
 * ({@code -p}), because v1 does not know the top-level {@code name} key.
 *
 * <pre>{@code
 * ComposeFile file = ComposeFile.of("byop-p1")
 *     .withNetwork("preview", ComposeNetwork.owned(labels))
 *     .withService("web", ComposeService.of("shop/web:abc").withNetworks(List.of("preview")));
 * host.write(dir + "/docker-compose.yml", file.toYaml().getBytes(StandardCharsets.UTF_8), 0600);
 * }</pre>
 *
 * @param projectName the compose project name: 1-63 characters of a-z, 0-9, '-' and '_', starting with a letter or
 *     digit
 * @param services services by name (DNS labels), in order
 * @param networks networks by key, in order
 */
public record ComposeFile(String projectName, Map<String, ComposeService> services,
    Map<String, ComposeNetwork> networks) {
  static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
  static final Pattern LABEL_KEY = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._/-]{0,253}[A-Za-z0-9])?");

  public ComposeFile {
    checkName("compose.projectName", projectName);
    services = copy(services);
    networks = copy(networks);
    for (var e : services.entrySet()) {
      Checks.dnsLabel("compose.services name", e.getKey());
      Checks.notNull("compose.services." + e.getKey(), e.getValue());
      for (String n : e.getValue().networks()) {
        if (!networks.containsKey(n)) {
          throw new ValidationException("compose.services." + e.getKey() + ".networks", n,
              "names a network that the file does not declare");
        }
      }
    }
    for (var e : networks.entrySet()) {
      checkName("compose.networks name", e.getKey());
      Checks.notNull("compose.networks." + e.getKey(), e.getValue());
    }
  }

  /** An empty project. */
  public static ComposeFile of(String projectName) {
    return new ComposeFile(projectName, Map.of(), Map.of());
  }

  /** This file with the service added or replaced. */
  public ComposeFile withService(String name, ComposeService service) {
    Map<String, ComposeService> m = new LinkedHashMap<>(services);
    m.put(name, service);
    return new ComposeFile(projectName, m, networks);
  }

  /** This file with the network added or replaced. */
  public ComposeFile withNetwork(String key, ComposeNetwork network) {
    Map<String, ComposeNetwork> m = new LinkedHashMap<>(networks);
    m.put(key, network);
    return new ComposeFile(projectName, services, m);
  }

  /** The compose file text. */
  public String toYaml() {
    return ComposeYaml.write(this);
  }

  private static <V> Map<String, V> copy(Map<String, V> m) {
    return m == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(m));
  }

  static String checkName(String field, String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new ValidationException(field, Checks.printable(name),
          "must be 1-63 characters of a-z, 0-9, '-' and '_', starting with a letter or digit");
    }
    return name;
  }

  static Map<String, String> checkLabels(String field, Map<String, String> labels) {
    if (labels == null) return Map.of();
    Map<String, String> out = new LinkedHashMap<>();
    labels.forEach((k, v) -> {
      ComposeService.checkLabelKey(field, k);
      Checks.noNul(field + "." + k, v);
      out.put(k, v);
    });
    return Collections.unmodifiableMap(out);
  }
}
