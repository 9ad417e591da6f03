package dev.byop.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ValuesTest {
  private static final GitSource SRC = GitSource.of("https://example.org/shop.git");

  @Test
  void componentValidatesEveryField() {
    Component ok = new Component("web", SRC, "services/web", "Dockerfile.prod", Map.of("V", "1"), 8080,
        Map.of("QUOTE", "it's \"$HOME\"\nline2"), "/healthz");
    assertEquals("it's \"$HOME\"\nline2", ok.env().get("QUOTE"));
    assertThrows(ValidationException.class, () -> Component.of("Web", SRC, 80));
    assertThrows(ValidationException.class, () -> Component.of("web_1", SRC, 80));
    assertThrows(ValidationException.class, () -> Component.of("-web", SRC, 80));
    assertThrows(ValidationException.class, () -> Component.of("a".repeat(64), SRC, 80));
    var e = assertThrows(ValidationException.class, () -> Component.of("web", SRC, 70000));
    assertTrue(e.getMessage().contains("70000") && e.getMessage().contains("between 1 and 65535"), e.getMessage());
    assertThrows(ValidationException.class, () -> Component.of("web", SRC, -1));
    assertThrows(ValidationException.class, () -> Component.of("web", SRC, 80).withContext("../x", "Dockerfile"));
    assertThrows(ValidationException.class, () -> Component.of("web", SRC, 80).withContext("/abs", "Dockerfile"));
    assertThrows(ValidationException.class, () -> Component.of("web", SRC, 80).withEnv(Map.of("BAD-NAME", "x")));
    assertThrows(ValidationException.class, () -> Component.of("web", SRC, 80).withEnv(Map.of("A", "x\0y")));
    assertThrows(ValidationException.class, () -> Component.of("web", SRC, 80).withHealthPath("health"));
  }

  @Test
  void appNeedsUniqueComponents() {
    assertThrows(ValidationException.class, () -> new App("shop", "Shop", List.of()));
    assertThrows(ValidationException.class, () -> App.of("shop", Component.of("web", SRC, 80), Component.of("web", SRC, 81)));
    App app = App.of("shop", Component.of("worker", SRC, 0), Component.of("web", SRC, 80));
    assertEquals("web", app.entryComponent().orElseThrow().name());
    assertThrows(ValidationException.class, () -> App.of("Shop!", Component.of("web", SRC, 80)));
  }

  @Test
  void buildConfigValidates() {
    BuildConfig c = BuildConfig.builder().component("web").commit("main").buildArg("GREETING", "hi")
        .target("runtime").label("org.opencontainers.image.source", "x").platforms(List.of("linux/amd64"))
        .secret("npm_token", SecretRef.value("t0k")).tag("v1").build();
    assertEquals("hi", c.buildArgs().get("GREETING"));
    assertThrows(ValidationException.class, () -> BuildConfig.builder().platforms(List.of("amd64")).build());
    assertThrows(ValidationException.class, () -> BuildConfig.builder().commit("--evil").build());
    assertThrows(ValidationException.class, () -> BuildConfig.builder().tag("-bad").build());
    assertThrows(ValidationException.class, () -> BuildConfig.builder().secret("a b", SecretRef.value("x")).build());
    assertThrows(ValidationException.class, () -> BuildConfig.builder().target("a b").build());
  }

  @Test
  void secretsAreRedacted() {
    Credentials c = Credentials.basic("byop", "hunter2-canary");
    assertFalse(c.toString().contains("hunter2"), c.toString());
    assertFalse(SecretRef.value("hunter2-canary").toString().contains("hunter2"));
    assertEquals("hunter2-canary", c.secret().reveal());
    assertTrue(Credentials.identityToken("tok").isIdentityToken());
    var missing = assertThrows(ConfigException.class,
        () -> SecretRef.Env.in("NOT_SET_ANYWHERE", Map.of()).resolve());
    assertTrue(missing.getMessage().contains("NOT_SET_ANYWHERE"), missing.getMessage());
    assertEquals("v", SecretRef.Env.in("X", Map.of("X", "v")).resolve().reveal());
  }

  @Test
  void buildTransitionsFollowTheSeed() {
    assertTrue(BuildStatus.PENDING.canMoveTo(BuildStatus.FETCHING));
    assertTrue(BuildStatus.FETCHING.canMoveTo(BuildStatus.BUILDING));
    assertTrue(BuildStatus.BUILDING.canMoveTo(BuildStatus.PUSHING));
    assertTrue(BuildStatus.PUSHING.canMoveTo(BuildStatus.SUCCESS));
    for (BuildStatus running : List.of(BuildStatus.FETCHING, BuildStatus.BUILDING, BuildStatus.PUSHING)) {
      assertTrue(running.canMoveTo(BuildStatus.FAILED));
      assertTrue(running.canMoveTo(BuildStatus.CANCELLED));
    }
    assertFalse(BuildStatus.PENDING.canMoveTo(BuildStatus.SUCCESS));
    assertFalse(BuildStatus.FETCHING.canMoveTo(BuildStatus.PUSHING));
    for (BuildStatus end : List.of(BuildStatus.SUCCESS, BuildStatus.FAILED, BuildStatus.CANCELLED)) {
      assertTrue(end.next().isEmpty());
      assertTrue(end.isTerminal());
    }
    var e = assertThrows(IllegalTransitionException.class,
        () -> BuildStatus.SUCCESS.checkMoveTo(BuildStatus.BUILDING, "build job 7"));
    assertEquals("SUCCESS", e.from());
    assertTrue(e.getMessage().contains("build job 7"));
  }

  @Test
  void previewTransitionsFollowTheSeed() {
    assertTrue(PreviewStatus.BUILDING.canMoveTo(PreviewStatus.DEPLOYING));
    assertTrue(PreviewStatus.DEPLOYING.canMoveTo(PreviewStatus.RUNNING));
    assertFalse(PreviewStatus.RUNNING.canMoveTo(PreviewStatus.STOPPED), "STOPPED only after a recorded tear-down");
    for (PreviewStatus s : PreviewStatus.values()) {
      if (s != PreviewStatus.STOPPING && s != PreviewStatus.STOPPED) assertTrue(s.canMoveTo(PreviewStatus.STOPPING), s::name);
    }
    assertTrue(PreviewStatus.STOPPING.canMoveTo(PreviewStatus.STOPPED));
    assertFalse(PreviewStatus.STOPPING.canMoveTo(PreviewStatus.BUILDING), "a tear-down is not undone");
    assertTrue(PreviewStatus.STOPPING.isClaimable() && !PreviewStatus.STOPPING.isInProgress());
    assertTrue(PreviewStatus.BUILDING.canMoveTo(PreviewStatus.FAILED));
    assertFalse(PreviewStatus.BUILDING.canMoveTo(PreviewStatus.RUNNING));
    assertFalse(PreviewStatus.STOPPED.canMoveTo(PreviewStatus.BUILDING));
    assertThrows(IllegalTransitionException.class,
        () -> PreviewStatus.STOPPED.checkMoveTo(PreviewStatus.RUNNING, "preview p1"));
  }
}
