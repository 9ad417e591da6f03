package dev.byop.preview.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.byop.core.ByopLabels;
import dev.byop.preview.compose.ComposeFile;
import dev.byop.preview.compose.ComposeNetwork;
import dev.byop.preview.compose.ComposeService;
import dev.byop.preview.compose.HealthCheck;
import dev.byop.preview.compose.PortMapping;
import dev.byop.core.spi.LogSink;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real {@code docker-compose config} reads byop's compose files as meant: nothing interpolated or re-typed. */
@RequiresTestbed
class ComposeConfigIT {
  static Map<String, String> hostile() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("QUOTES", "it's \"quoted\" 'twice'");
    m.put("NEWLINES", "line one\nline two\r\n\tindented");
    m.put("DOLLAR", "$HOME ${PATH} $$ $ ${X:-default} ${REQUIRED?err} $(id)");
    m.put("ANCHOR", "&anchor value");
    m.put("ALIAS", "*anchor");
    m.put("MERGE", "<<: *anchor");
    m.put("BOOLISH", "yes");
    m.put("NULLISH", "~");
    m.put("OCTALISH", "0777");
    m.put("COMMENT", "value # not a comment");
    m.put("FLOW", "{a: 1, b: [2]}");
    m.put("EMPTY", "");
    m.put("UNICODE", "caf\u00e9 \u2603");
    return m;
  }

  @Test
  void composeV1ReadsHostileValuesExactly(Testbed bed, @TempDir Path dir) throws Exception {
    Map<String, String> env = hostile();
    Map<String, String> labels = new LinkedHashMap<>(ByopLabels.forComponent("default", "shop", "p1", "api"));
    labels.put("note", "$USER said \"hi\"\n");
    ComposeFile file = ComposeFile.of("byop-it-config")
        .withNetwork("preview", ComposeNetwork.owned(ByopLabels.forPreview("default", "shop", "p1")))
        .withService("api", ComposeService.of("byop-it-preview/api:1").withEnvironment(env).withLabels(labels)
            .withNetworks(List.of("preview")).withHealthcheck(HealthCheck.httpGet(8081, "/h?$x"))
            .plusPort(PortMapping.loopback(8081)));
    Path f = dir.resolve("docker-compose.yml");
    // written as deployments write it
    new LocalHost(List.of("docker"), dir, Map.of()).write(f.toString(), file.toYaml().getBytes(StandardCharsets.UTF_8),
        0600);
    var r = TestApps.runner(bed).run(List.of("docker-compose", "--project-name", "byop-it-config", "--file",
        f.toString(), "config"), LogSink.discard(), Duration.ofMinutes(1));
    assertEquals(0, r.exitCode(), r.tail(20));
    String out = String.join("\n", r.output().stream().filter(l -> !l.startsWith("WARNING")).toList());
    JsonNode api = new ObjectMapper(new YAMLFactory()).readTree(out).path("services").path("api");
    // config prints the resolved file with '$' escaped again as '$$'; anything interpolated would have lost its '$'
    for (var e : env.entrySet()) {
      JsonNode v = api.path("environment").path(e.getKey());
      assertTrue(v.isTextual(), e.getKey() + " stays text: " + v);
      assertEquals(e.getValue(), v.asText().replace("$$", "$"), e.getKey());
    }
    assertEquals("$USER said \"hi\"\n", api.path("labels").path("note").asText().replace("$$", "$"));
    assertEquals("true", api.path("labels").path(ByopLabels.MANAGED).asText());
    assertEquals("http://127.0.0.1:8081/h?$x", api.path("healthcheck").path("test").get(5).asText().replace("$$", "$"));
    assertEquals("127.0.0.1::8081/tcp", api.path("ports").get(0).asText());
  }
}
