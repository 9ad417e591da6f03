package dev.byop.preview.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.ImageReference;
import dev.byop.core.Preview;
import dev.byop.core.PreviewException;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.PreviewDeployer.DeployRequest;
import dev.byop.core.spi.PreviewDeployer.Deployment;
import dev.byop.store.jdbc.JdbcStoreFactory;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delivery to the local host, through {@link Byop}'s deployer: an image a build pushed to the bed's registry (htpasswd
 * auth) and that the engine no longer has is pulled with the top-level {@code registry} section's credentials, which
 * reach the docker CLI only in a {@code DOCKER_CONFIG} made for that pull and removed after it.
 */
@RequiresTestbed
class LocalPlacementIT {
  static final String RUN = TestApps.newId().substring(1, 9);
  static Testbed bed;
  static String pushed;

  @BeforeAll
  static void pushAnImageAndDropItLocally(Testbed testbed, @TempDir Path dir) throws Exception {
    bed = testbed;
    TestApps.writeWeb(dir.resolve("web"), bed.baseImage(), "pulled-" + RUN);
    String local = "byop-it-pull-" + RUN + "/web:1";
    pushed = bed.registry().address() + "/compose-" + RUN + "/web:1";
    TestApps.dockerBuild(bed, dir.resolve("web"), local);
    TestApps.docker(bed, "tag", local, pushed);
    Path config = Files.createDirectories(dir.resolve("push-config"));
    Files.writeString(config.resolve("config.json"), "{\"auths\":{\"" + bed.registry().address() + "\":{\"auth\":\""
        + Base64.getEncoder().encodeToString((bed.registry().user() + ":" + bed.registry().password())
        .getBytes(StandardCharsets.UTF_8)) + "\"}}}");
    var push = TestApps.runner(bed).withEnvironment(Map.of("DOCKER_CONFIG", config.toString()))
        .run(List.of(bed.dockerCli().toString(), "push", pushed), l -> { }, Duration.ofMinutes(2));
    assertTrue(push.ok(), push.tail(10));
    TestApps.docker(bed, "image", "rm", local, pushed);
  }

  @AfterAll
  static void removeImage() {
    TestApps.runner(bed).run(List.of(bed.dockerCli().toString(), "image", "rm", "-f", pushed), l -> { },
        Duration.ofMinutes(1));
  }

  static Byop byop(Path data, String password) throws Exception {
    Path secret = data.resolve("registry-password");
    Files.writeString(secret, password);
    Map<String, Object> preview = new LinkedHashMap<>();
    preview.put("provider", "local");
    preview.put("router", "plain");
    preview.put("instance", "it-pull-" + RUN);
    preview.put("docker", bed.dockerCli().toString());
    preview.put("dockerHost", bed.dockerHost());
    preview.put("readyTimeout", "60s");
    preview.put("sweepInterval", "0s");
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("dataDir", data.toString());
    root.put("registry", Map.of("address", bed.registry().address(), "username", bed.registry().user(),
        "password", Map.of("file", secret.toString())));
    root.put("preview", preview);
    return Byop.builder().config(ByopConfig.of(root)).register(new JdbcStoreFactory())
        .register(new LocalPreviewDeployerFactory()).build();
  }

  static App app(String id) {
    return new App(id, id, List.of(Component.of("web", GitSource.of("https://example.invalid/unused.git"), 8080)
        .withHealthPath("/index.html")));
  }

  static List<Path> pullConfigs() throws Exception {
    try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return s.filter(p -> p.getFileName().toString().startsWith("byop-pull-")).toList();
    }
  }

  @Test
  void anImageTheEngineLacksIsPulledWithTheRegistryCredentialsWhichDoNotStay(@TempDir Path data) throws Exception {
    List<Path> before = pullConfigs();
    List<String> log = Collections.synchronizedList(new ArrayList<>());
    String id = TestApps.newId();
    App app = app("pull-" + RUN);
    Map<String, ImageReference> images = Map.of("web", ImageReference.parse(pushed));
    Preview p = TestApps.preview(id, app.id(), Map.of("web", pushed));
    try (Byop byop = byop(data, bed.registry().password())) {
      Deployment dep = byop.previewDeployer().deploy(new DeployRequest(p, app, images), JobContext.of(id, log::add));
      assertTrue(log.contains("pulling " + pushed + " with the credentials of " + bed.registry().address()), log.toString());
      String page = LocalPreviewDeployerIT.get(java.net.URI.create(dep.url()), "127.0.0.1", "/index.html");
      assertTrue(page.contains("pulled-" + RUN), page);
      assertEquals(before, pullConfigs(), "the pull's DOCKER_CONFIG is removed");
      assertTrue(log.stream().noneMatch(l -> l.contains(bed.registry().password())), "no password in the log");
      byop.previewDeployer().tearDown(TestApps.withUrl(p, dep.url()), JobContext.of(id, log::add));
      assertEquals(List.of(), TestApps.docker(bed, "ps", "-aq", "--filter", "label=dev.byop.preview=" + id));
    }
  }

  @Test
  void aRefusedPullNamesTheImageAndTheComponentAndNeverThePassword(@TempDir Path data) throws Exception {
    TestApps.runner(bed).run(List.of(bed.dockerCli().toString(), "image", "rm", "-f", pushed), l -> { },
        Duration.ofMinutes(1));
    String wrong = "wrong-" + RUN + "-password";
    String id = TestApps.newId();
    App app = app("pullbad-" + RUN);
    Preview p = TestApps.preview(id, app.id(), Map.of("web", pushed));
    try (Byop byop = byop(data, wrong)) {
      var e = assertThrows(PreviewException.class, () -> byop.previewDeployer().deploy(new DeployRequest(p, app,
          Map.of("web", ImageReference.parse(pushed))), JobContext.of(id, l -> { })));
      assertTrue(e.getMessage().contains("image " + pushed + " of component 'web'")
          && e.getMessage().contains("pulling it failed"), e.getMessage());
      assertFalse(e.getMessage().contains(wrong), e.getMessage());
      byop.previewDeployer().tearDown(p, JobContext.of(id, l -> { }));
    }
  }

  @Test
  void anEngineThatCannotBeAskedIsSaidSoNotTakenForAMissingImage(@TempDir Path work) {
    LocalHost nowhere = new LocalHost(List.of(bed.dockerCli().toString()), work,
        Map.of("DOCKER_HOST", "unix://" + work.resolve("no-engine.sock")));
    LocalPlacement placement = new LocalPlacement(nowhere, null, Duration.ofSeconds(30));
    App app = app("noengine-" + RUN);
    Preview p = TestApps.preview(TestApps.newId(), app.id(), Map.of("web", pushed));
    var e = assertThrows(PreviewException.class, () -> placement.place(new DeployRequest(p, app,
        Map.of("web", ImageReference.parse(pushed))), JobContext.of(p.id(), l -> { })));
    assertTrue(e.getMessage().contains("cannot ask the Docker engine of byop.local")
        && e.getMessage().contains("Cannot connect to the Docker daemon"), e.getMessage());
  }
}
