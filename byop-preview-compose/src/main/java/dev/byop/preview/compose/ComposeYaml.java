package dev.byop.preview.compose;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.byop.core.PreviewException;
import java.time.Duration;
import java.util.Map;

/**
 * Writes a {@link ComposeFile} through a Jackson tree. Strings are always double-quoted (so {@code yes}, {@code *x},
 * {@code &a}, {@code #} and newlines stay text) and every {@code $} becomes {@code $$}, compose's escape for its
 * variable interpolation, which would otherwise read {@code $HOME} or {@code ${X}} in a value.
 */
final class ComposeYaml {
  private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
      .disable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
      .disable(YAMLGenerator.Feature.SPLIT_LINES)
      .disable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
      .build());
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private ComposeYaml() {}

  static String write(ComposeFile file) {
    ObjectNode root = F.objectNode();
    ObjectNode services = root.putObject("services");
    file.services().forEach((name, s) -> services.set(name, service(s)));
    if (!file.networks().isEmpty()) {
      ObjectNode networks = root.putObject("networks");
      file.networks().forEach((key, n) -> {
        ObjectNode o = networks.putObject(key);
        if (n.external()) {
          o.put("external", true);
          o.put("name", text(n.name()));
        } else if (!n.labels().isEmpty()) {
          o.set("labels", map(n.labels()));
        }
      });
    }
    try {
      return YAML.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new PreviewException("cannot write compose file of " + file.projectName() + ": " + e.getMessage(), e);
    }
  }

  private static ObjectNode service(ComposeService s) {
    ObjectNode o = F.objectNode();
    o.put("image", text(s.image()));
    o.put("restart", s.restart().composeValue());
    if (!s.environment().isEmpty()) o.set("environment", map(s.environment()));
    if (!s.labels().isEmpty()) o.set("labels", map(s.labels()));
    if (!s.networks().isEmpty()) {
      ArrayNode a = o.putArray("networks");
      s.networks().forEach(a::add);
    }
    if (!s.ports().isEmpty()) {
      ArrayNode a = o.putArray("ports");
      s.ports().forEach(p -> a.add(p.composeValue()));
    }
    HealthCheck h = s.healthcheck();
    if (h != null) {
      ObjectNode hc = o.putObject("healthcheck");
      ArrayNode test = hc.putArray("test");
      h.composeTest().forEach(arg -> test.add(text(arg)));
      hc.put("interval", duration(h.interval()));
      hc.put("timeout", duration(h.timeout()));
      hc.put("retries", h.retries());
      hc.put("start_period", duration(h.startPeriod()));
    }
    return o;
  }

  private static ObjectNode map(Map<String, String> m) {
    ObjectNode o = F.objectNode();
    m.forEach((k, v) -> o.put(k, text(v)));
    return o;
  }

  /** Compose's own escape for a literal dollar sign. */
  static String text(String value) {
    return value.replace("$", "$$");
  }

  /** Compose durations such as {@code 1500ms}; whole milliseconds are exact for every duration byop uses. */
  private static String duration(Duration d) {
    return d.toMillis() + "ms";
  }
}
