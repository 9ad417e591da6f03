package dev.byop.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ByopConfigTest {
  @TempDir Path dir;

  private String full(Path secretFile) {
    return """
        # a complete byop configuration
        dataDir: /var/lib/byop
        store:
          provider: jdbc
          url: jdbc:postgresql://127.0.0.1:5433/byop
          user: byop
          password: { file: %s }
        builder:
          provider: buildkit
          endpoint: docker
        registry:
          address: 127.0.0.1:5000
          username: byop
          password: { file: %s }
        cloud:
          provider: static
          hosts:
            - { name: vps1, address: 10.203.1.2, port: 22, user: byopvps1, capacity: 1, key: { file: %s } }
            - { name: vps2, address: 10.203.2.2, port: 22, user: byopvps2, capacity: 2, key: { file: %s } }
        preview:
          provider: local
          domain: byop.local
          ttl: 24h
        orchestrator:
          workers: 4
          lease: 15s
          maxAttempts: 5
          jobTimeout: PT45M
        git:
          allowFile: true
        """.formatted(secretFile, secretFile, secretFile, secretFile);
  }

  @Test
  void loadsACompleteFile() throws Exception {
    Path secret = Files.writeString(dir.resolve("pw"), "s3cret\n");
    Path file = Files.writeString(dir.resolve("byop.yml"), full(secret));
    ByopConfig c = ByopConfig.load(file);
    assertEquals(Path.of("/var/lib/byop"), c.dataDir());
    assertEquals("jdbc", c.providerId("store").orElseThrow());
    assertEquals(new ByopConfig.Orchestrator(4, Duration.ofSeconds(15), 5, Duration.ofMinutes(45),
        Duration.ofMillis(200)), c.orchestrator());
    assertTrue(c.gitPolicy().allowFile());
    assertFalse(c.gitPolicy().allowHttp());
    assertEquals("s3cret", c.section("registry").requireSecret("password").resolve().reveal());
    var hosts = c.section("cloud").sections("hosts");
    assertEquals(2, hosts.size());
    assertEquals(2, hosts.get(1).integer("capacity", 1));
    assertEquals("s3cret", hosts.get(0).requireSecret("key").resolve().reveal());
    assertEquals(Duration.ofHours(24), c.section("preview").duration("ttl", Duration.ZERO));
  }

  @Test
  void unknownKeyNamesLineAndKey() {
    var e = assertThrows(ConfigException.class, () -> ByopConfig.parse("""
        dataDir: x
        orchestrator:
          workers: 2
          wrokers: 3
        """, "byop.yml"));
    assertEquals(4, e.line());
    assertEquals("orchestrator.wrokers", e.key());
    assertTrue(e.getMessage().startsWith("byop.yml:4: key 'orchestrator.wrokers': unknown key"), e.getMessage());

    var top = assertThrows(ConfigException.class, () -> ByopConfig.parse("\n\nregsitry: {}\n", "f.yml"));
    assertEquals(3, top.line());
    assertEquals("regsitry", top.key());
  }

  @Test
  void wrongTypesNameLineAndKey() {
    var e = assertThrows(ConfigException.class, () -> ByopConfig.parse("""
        orchestrator:
          workers: many
        """, "byop.yml"));
    assertEquals(2, e.line());
    assertEquals("orchestrator.workers", e.key());
    assertTrue(e.getMessage().contains("expected a whole number, got 'many'"), e.getMessage());

    var d = assertThrows(ConfigException.class, () -> ByopConfig.parse("orchestrator: { lease: soon }", "b.yml"));
    assertTrue(d.getMessage().contains("expected a duration"), d.getMessage());
    var s = assertThrows(ConfigException.class, () -> ByopConfig.parse("orchestrator: [1, 2]", "b.yml"));
    assertTrue(s.getMessage().contains("expected a section"), s.getMessage());
    var b = assertThrows(ConfigException.class, () -> ByopConfig.parse("git:\n  allowFile: maybe\n", "b.yml"));
    assertEquals(2, b.line());
    var dup = assertThrows(ConfigException.class, () -> ByopConfig.parse("git: {}\ngit: {}\n", "b.yml"));
    assertTrue(dup.getMessage().contains("duplicate key"), dup.getMessage());
    var bad = assertThrows(ConfigException.class, () -> ByopConfig.parse("store: [unclosed\n", "b.yml"));
    assertTrue(bad.getMessage().contains("not valid YAML"), bad.getMessage());
  }

  @Test
  void missingOrInlineSecretsAreErrors() {
    var env = assertThrows(ConfigException.class, () -> ByopConfig.parse("""
        registry:
          username: byop
          password: { env: BYOP_TEST_SURELY_UNSET_VARIABLE }
        """, "byop.yml"));
    assertEquals(3, env.line());
    assertEquals("registry.password", env.key());
    assertTrue(env.getMessage().contains("BYOP_TEST_SURELY_UNSET_VARIABLE"), env.getMessage());

    var file = assertThrows(ConfigException.class, () -> ByopConfig.parse(
        "store:\n  password: { file: /nonexistent/pw }\n", "byop.yml"));
    assertEquals(2, file.line());

    ByopConfig inline = ByopConfig.parse("registry:\n  password: hunter2-canary\n", "byop.yml");
    var e = assertThrows(ConfigException.class, () -> inline.section("registry").secret("password"));
    assertEquals(2, e.line());
    assertTrue(e.getMessage().contains("not a value written inline"), e.getMessage());
    assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
  }

  @Test
  void buildableInCode() {
    ByopConfig c = ByopConfig.of(Map.of("dataDir", "/tmp/x",
        "orchestrator", Map.of("workers", 8, "lease", Duration.ofSeconds(2)),
        "registry", Map.of("password", SecretRef.value("pw"))));
    assertEquals(8, c.orchestrator().workers());
    assertEquals(Duration.ofSeconds(2), c.orchestrator().lease());
    assertEquals("pw", c.section("registry").requireSecret("password").resolve().reveal());
    assertEquals(Path.of("./byop-data"), ByopConfig.defaults().dataDir());
    assertThrows(ConfigException.class, () -> ByopConfig.of(Map.of("orchestrator", Map.of("workers", 0))));
  }

  @Test
  void secretsAreEveryReferenceOfEverySectionResolved() throws Exception {
    Path token = Files.writeString(dir.resolve("token"), "git-token-1\n");
    ByopConfig yaml = ByopConfig.parse("builder:\n  git: { username: ci, token: { file: " + token + " } }\n"
        + "cloud:\n  hosts:\n    - { name: a, password: { file: " + token + " } }\n", "byop.yml");
    assertEquals(java.util.List.of(Secret.of("git-token-1"), Secret.of("git-token-1")), yaml.secrets());
    ByopConfig code = ByopConfig.of(Map.of("registry", Map.of("password", SecretRef.value("reg-pw")),
        "store", Map.of("password", SecretRef.Env.in("MISSING_ONE", Map.of()))));
    assertEquals(java.util.List.of(Secret.of("reg-pw")), code.secrets(), "an unresolvable reference holds nothing");
  }
}
