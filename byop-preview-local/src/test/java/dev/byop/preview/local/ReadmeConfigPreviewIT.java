package dev.byop.preview.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import dev.byop.store.jdbc.JdbcStoreFactory;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A local preview configured in code exactly as a new user would from the documented keys ({@code preview: {provider:
 * local, router: caddy, instance, docker: /usr/bin/docker, caddy: {admin, server, listener, publicPort,
 * routeIdPrefix}}}, nothing else: no dockerHost, readyTimeout, imageRepository or sweepInterval), driven through
 * {@link Byop}: a two-component app runs behind the bed's Caddy, and a preview that cannot become ready fails saying
 * what is wrong with which component.
 */
@RequiresTestbed
class ReadmeConfigPreviewIT {
  static final String RUN = TestApps.newId().substring(1, 9);
  static final String INSTANCE = "readme-" + RUN;
  static Testbed bed;
  static GitRepo repo;

  @BeforeAll
  static void repo(Testbed testbed, @TempDir Path dir) throws Exception {
    bed = testbed;
    repo = new GitRepo(dir);
    repo.commitApp(bed.baseImage(), "v1");
  }

  @AfterAll
  static void removeImages() {
    for (String ref : TestApps.docker(bed, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}")) {
      if (ref.startsWith("byop/shop-" + RUN + "/") || ref.startsWith("byop/sick-" + RUN + "/")) {
        TestApps.runner(bed).run(List.of(bed.dockerCli().toString(), "image", "rm", "-f", ref),
            line -> { }, Duration.ofMinutes(1));
      }
    }
  }

  /** The README's keys, in code, with the bed's values; a route prefix of this run (the bed's Caddy is shared). */
  static Map<String, Object> config(Path data) {
    Map<String, Object> caddy = new LinkedHashMap<>();
    caddy.put("admin", bed.caddy().adminUri().toString());
    caddy.put("server", bed.caddy().serverName());
    caddy.put("listener", bed.caddy().httpUri().toString());
    caddy.put("publicPort", bed.caddy().httpUri().getPort());
    caddy.put("routeIdPrefix", INSTANCE + "-");
    Map<String, Object> preview = new LinkedHashMap<>();
    preview.put("provider", "local");
    preview.put("router", "caddy");
    preview.put("instance", INSTANCE);
    preview.put("docker", "/usr/bin/docker");
    preview.put("caddy", caddy);
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("dataDir", data.toString());
    root.put("git", Map.of("allowFile", true)); // the app's repository is a local file:// one
    root.put("preview", preview);
    return root;
  }

  static Byop byop(Path data) {
    return Byop.builder().config(ByopConfig.of(config(data))).register(new JdbcStoreFactory())
        .register(new CliImageBuilder(bed, data).factory()).register(new LocalPreviewDeployerFactory()).build();
  }

  /** web with a health path, api with {@code apiHealth} or none (as a new user's component often has none). */
  static App app(String id, @Nullable String apiHealth) {
    GitSource src = GitSource.of(repo.url());
    Component api = Component.of("api", src, 8081).withContext("api", "Dockerfile");
    return new App(id, id, List.of(
        Component.of("web", src, 8080).withContext("web", "Dockerfile").withHealthPath("/index.html"),
        apiHealth == null ? api : api.withHealthPath(apiHealth)));
  }

  @Test
  void aTwoComponentAppRunsBehindCaddyAndGoesAwayWithItsPreview(@TempDir Path data) throws Exception {
    // the reported failure: a component without a health check has no Health in its state, the state template
    // failed on every CLI, its exit code went unread, and the preview "did not answer ... (no containers)"
    String id = "shop-" + RUN;
    try (Byop byop = byop(data)) {
      byop.store().saveApp(app(id, null));
      Preview p = byop.previews().createPreview(id);
      Preview running = byop.previews().await(p.id(), Duration.ofMinutes(3));
      assertEquals(PreviewStatus.RUNNING, running.status(), String.valueOf(running.error()));
      assertEquals("http://" + p.hostname() + ":" + bed.caddy().httpUri().getPort() + "/", running.url());
      String page = LocalPreviewDeployerIT.get(bed.caddy().httpUri(), p.hostname(), "/index.html");
      assertTrue(page.startsWith("HTTP/1.1 200") && page.contains("X-Byop-Preview: " + p.id()), page);
      assertTrue(LocalPreviewDeployerIT.get(bed.caddy().httpUri(), p.hostname(), "/cgi-bin/api").contains("api-ok v1"));
      assertTrue(byop.previewDeployer().status(running).urlAnswers());
      assertEquals(2, TestApps.docker(bed, "ps", "-q", "--filter", "label=dev.byop.preview=" + p.id()).size());

      Preview stopped = byop.previews().deletePreview(p.id());
      assertEquals(PreviewStatus.STOPPED, stopped.status(), String.valueOf(stopped.error()));
      assertEquals(List.of(), TestApps.docker(bed, "ps", "-aq", "--filter", "label=dev.byop.preview=" + p.id()));
      assertFalse(LocalPreviewDeployerIT.get(bed.caddy().httpUri(), p.hostname(), "/").contains("X-Byop-Preview"),
          "route removed");
    }
  }

  @Test
  void aPreviewThatNeverBecomesReadySaysWhichComponentIsWhatAndWhatTheRouteAnswered(@TempDir Path data)
      throws Exception {
    String id = "sick-" + RUN;
    Map<String, Object> cfg = config(data);
    @SuppressWarnings("unchecked")
    Map<String, Object> preview = (Map<String, Object>) cfg.get("preview");
    preview.put("readyTimeout", "6s");
    try (Byop byop = Byop.builder().config(ByopConfig.of(cfg)).register(new JdbcStoreFactory())
        .register(new CliImageBuilder(bed, data).factory()).register(new LocalPreviewDeployerFactory()).build()) {
      byop.store().saveApp(app(id, "/missing"));
      Preview p = byop.previews().createPreview(id);
      Preview done = byop.previews().await(p.id(), Duration.ofMinutes(3));
      assertEquals(PreviewStatus.FAILED, done.status());
      String error = String.valueOf(done.error());
      // either still starting at the deadline or already unhealthy: the message names the component and its state
      assertTrue(error.contains("api running (starting)") || error.contains("component api running (unhealthy)"),
          error);
      assertFalse(error.contains("no containers"), error);
      byop.previews().deletePreview(p.id());
    }
  }
}
