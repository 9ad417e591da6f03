package dev.byop.preview.compose;

import dev.byop.core.ByopLabels;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.byop.core.ValidationException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ComposeFileTest {
  /** Values that YAML or compose would interpret if they were not quoted and escaped. */
  static final Map<String, String> HOSTILE = hostile();

  static Map<String, String> hostile() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("QUOTES", "it's \"quoted\" 'twice'");
    m.put("NEWLINES", "line one\nline two\r\n\tindented");
    m.put("DOLLAR", "$HOME ${PATH} $$ $ ${X:-default} $(id)");
    m.put("ANCHOR", "&anchor value");
    m.put("ALIAS", "*anchor");
    m.put("MERGE", "<<: *anchor");
    m.put("BOOLISH", "yes");
    m.put("NULLISH", "~");
    m.put("NUMBERISH", "0o17");
    m.put("COMMENT", "value # not a comment");
    m.put("COLON", "key: value");
    m.put("BRACES", "{a: 1, b: [2]}");
    m.put("DASH", "- item");
    m.put("EMPTY", "");
    m.put("UNICODE", "caf\u00e9 \u2603 \ud83d\ude00");
    m.put("BACKSLASH", "C:\\path\\n");
    return m;
  }

  static ComposeFile sample(Map<String, String> env) {
    return ComposeFile.of("byop-p1")
        .withNetwork("preview", ComposeNetwork.owned(ByopLabels.forPreview("default", "shop", "p1")))
        .withService("api", ComposeService.of("byop-it/api:1").withEnvironment(env)
            .withLabels(ByopLabels.forComponent("default", "shop", "p1", "api"))
            .withNetworks(List.of("preview"))
            .withHealthcheck(HealthCheck.httpGet(8081, "/health?x=$y")))
        .withService("web", ComposeService.of("byop-it/web:1").withNetworks(List.of("preview"))
            .withRestart(RestartPolicy.ON_FAILURE)
            .plusPort(PortMapping.loopback(80)));
  }

  @Test
  void hostileValuesAreCarriedExactlyOnceCompose$EscapeIsUndone() throws Exception {
    String yaml = sample(HOSTILE).toYaml();
    JsonNode tree = new ObjectMapper(new YAMLFactory()).readTree(yaml);
    JsonNode env = tree.path("services").path("api").path("environment");
    for (var e : HOSTILE.entrySet()) {
      JsonNode v = env.get(e.getKey());
      assertTrue(v.isTextual(), e.getKey() + " must stay text: " + v);
      assertEquals(e.getValue(), v.asText().replace("$$", "$"), e.getKey());
    }
    assertEquals("$$HOME $${PATH} $$$$ $$ $${X:-default} $$(id)", env.get("DOLLAR").asText());
    assertFalse(yaml.contains("&anchor value\n"), yaml);
  }

  @Test
  void writesServicesNetworksPortsHealthcheckAndLabels() throws Exception {
    JsonNode tree = new ObjectMapper(new YAMLFactory()).readTree(sample(Map.of("A", "1")).toYaml());
    JsonNode api = tree.path("services").path("api");
    assertEquals("byop-it/api:1", api.path("image").asText());
    assertEquals("unless-stopped", api.path("restart").asText());
    assertEquals("true", api.path("labels").path("dev.byop.managed").asText());
    assertEquals("p1", api.path("labels").path("dev.byop.preview").asText());
    assertEquals("shop", api.path("labels").path("dev.byop.app").asText());
    assertEquals("CMD", api.path("healthcheck").path("test").get(0).asText());
    assertEquals("http://127.0.0.1:8081/health?x=$$y", api.path("healthcheck").path("test").get(5).asText());
    assertEquals("1000ms", api.path("healthcheck").path("interval").asText());
    assertEquals("127.0.0.1::80/tcp", tree.path("services").path("web").path("ports").get(0).asText());
    assertEquals("on-failure", tree.path("services").path("web").path("restart").asText());
    assertEquals("p1", tree.path("networks").path("preview").path("labels").path("dev.byop.preview").asText());
    assertTrue(tree.path("name").isMissingNode(), "v1 does not know the top-level name key");
  }

  @Test
  void oddNamesAreRejectedNamingTheValueAndRule() {
    var e = assertThrows(ValidationException.class,
        () -> ComposeFile.of("byop-p1").withService("Web_1", ComposeService.of("x/y:1")));
    assertEquals("compose.services name", e.field());
    assertTrue(e.getMessage().contains("'Web_1'"), e.getMessage());
    assertThrows(ValidationException.class, () -> ComposeFile.of("-p"));
    assertThrows(ValidationException.class, () -> ComposeFile.of("Byop P"));
    assertThrows(ValidationException.class, () -> ComposeFile.of("a\nb"));
    assertThrows(ValidationException.class, () -> ComposeService.of("x/y:1").withEnvironment(Map.of("A-B", "v")));
    assertThrows(ValidationException.class, () -> ComposeService.of("x/y:1").withEnvironment(Map.of("$A", "v")));
    assertThrows(ValidationException.class, () -> ComposeService.of("x/y:1").withEnvironment(Map.of("A", "nul\0")));
    assertThrows(ValidationException.class, () -> ComposeService.of("x/y:1").withLabels(Map.of("a b", "v")));
    assertThrows(ValidationException.class, () -> ComposeService.of("x/y:1").withLabels(Map.of("$x", "v")));
    assertThrows(ValidationException.class, () -> ComposeService.of("Not An Image"));
    assertThrows(ValidationException.class, () -> ComposeService.of("x/y:1\n--privileged"));
    var undeclared = assertThrows(ValidationException.class,
        () -> ComposeFile.of("p").withService("web", ComposeService.of("x/y:1").withNetworks(List.of("nope"))));
    assertTrue(undeclared.getMessage().contains("does not declare"), undeclared.getMessage());
  }

  @Test
  void portsAreValidated() {
    assertThrows(ValidationException.class, () -> PortMapping.loopback(0));
    assertThrows(ValidationException.class, () -> PortMapping.loopback(65536));
    assertThrows(ValidationException.class, () -> PortMapping.loopback(-1));
    assertThrows(ValidationException.class, () -> new PortMapping("127.0.0.1", 70000, 80, "tcp"));
    assertThrows(ValidationException.class, () -> new PortMapping("localhost", 0, 80, "tcp"));
    assertThrows(ValidationException.class, () -> new PortMapping("127.0.0.1", 0, 80, "sctp"));
    assertThrows(ValidationException.class, () -> new PortMapping("256.0.0.1", 0, 80, "tcp"));
    assertEquals("0.0.0.0:8080:80/udp", new PortMapping("0.0.0.0", 8080, 80, "udp").composeValue());
  }

  @Test
  void healthcheckIsExecFormNeverAShellLine() {
    assertEquals(List.of("CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:80/h"),
        HealthCheck.httpGet(80, "/h").composeTest());
  }
}
