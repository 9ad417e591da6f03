package dev.byop.preview.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.LogLine;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.LogSink;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile previews, driven through {@link Byop} as a host application would: a build tag that imitates a commit's,
 * an image with router labels, two previews that must share no network, a preview answering an endless body or an
 * endless header, a component printing a 200 KB line, and the modes of the compose files holding env values. On every
 * engine of the bed's matrix (Compose v1 on 20.10, v2 on 26.1).
 */
@RequiresTestbed
@ParameterizedClass(name = "{0}")
@MethodSource("engines")
class PreviewIsolationIT {
  static final String RUN = TestApps.newId().substring(1, 9);
  static final String INSTANCE = "it-iso-" + RUN;
  static Testbed bed;
  static GitRepo repo;
  static String v1;
  static String v2;
  /** Containers, networks and images made by the tests themselves, with the engine that holds them. */
  static final Map<String, Testbed.Engine> created = new java.util.concurrent.ConcurrentHashMap<>();

  @Parameter Testbed.Engine engine;

  static Stream<Testbed.Engine> engines() {
    return Testbed.get().engines().stream();
  }

  @BeforeAll
  static void repo(Testbed testbed, @TempDir Path dir) throws Exception {
    bed = testbed;
    PreviewManagerIT.bed = testbed; // its config and helpers are reused here
    repo = new GitRepo(dir);
    v1 = repo.commitApp(bed.baseImage(), "v1");
    v2 = repo.commitApp(bed.baseImage(), "v2");
    // hostile components of the same repository, each in its own directory
    write(dir.resolve("evil/Dockerfile"), "FROM " + bed.baseImage() + "\nCOPY www /www\n"
        + "LABEL traefik.http.routers.evil.rule=\"Host(`victim.byop.local`)\" traefik.enable=\"true\"\n"
        + "CMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n");
    write(dir.resolve("evil/www/index.html"), "evil\n");
    String nc = "FROM " + bed.baseImage() + "\nCOPY answer.sh /answer.sh\nRUN chmod 755 /answer.sh\n"
        + "CMD [\"nc\", \"-ll\", \"-p\", \"8080\", \"-e\", \"/answer.sh\"]\n";
    write(dir.resolve("chunked/Dockerfile"), nc);
    write(dir.resolve("chunked/answer.sh"), "#!/bin/sh\nread line\n"
        + "printf 'HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n'\n"
        + "while :; do printf '400\\r\\n'; head -c 1024 /dev/zero | tr '\\0' z; printf '\\r\\n'; done\n");
    write(dir.resolve("header/Dockerfile"), nc);
    write(dir.resolve("header/answer.sh"), "#!/bin/sh\nread line\nprintf 'HTTP/1.1 200 OK\\r\\nX-Endless: '\n"
        + "while :; do head -c 65536 /dev/zero | tr '\\0' a; done\n");
    write(dir.resolve("longline/Dockerfile"), "FROM " + bed.baseImage() + "\n"
        + "CMD [\"sh\", \"-c\", \"head -c 204800 /dev/zero | tr '\\\\0' x; exit 3\"]\n");
    repo.git("add", "-A");
    repo.git("commit", "-q", "-m", "hostile components");
  }

  static void write(Path p, String text) throws Exception {
    Files.createDirectories(p.getParent());
    Files.writeString(p, text);
  }

  @AfterAll
  static void cleanUp(@TempDir Path work) {
    created.forEach((c, e) -> {
      String cli = e.cli().toString();
      TestApps.runner(e).run(List.of(cli, "rm", "-f", c), LogSink.discard(), Duration.ofMinutes(1));
      TestApps.runner(e).run(List.of(cli, "network", "rm", c), LogSink.discard(), Duration.ofMinutes(1));
      TestApps.runner(e).run(List.of(cli, "image", "rm", "-f", c), LogSink.discard(), Duration.ofMinutes(1));
    });
    for (Testbed.Engine e : bed.engines()) {
      // after the stand-in Traefik is gone (a route network it is still attached to could not be removed)
      for (String router : List.of("caddy", "plain")) {
        TestApps.deployer(TestApps.options(bed, e, router, INSTANCE, work, Duration.ofSeconds(30)))
            .sweep(Set.of(), JobContext.of("sweep", LogSink.discard()));
      }
      for (String ref : TestApps.docker(e, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}")) {
        if (ref.contains("-is" + RUN + "/")) {
          TestApps.runner(e).run(List.of(e.cli().toString(), "image", "rm", "-f", ref), LogSink.discard(),
              Duration.ofMinutes(1));
        }
      }
    }
  }

  /** A host's configuration for previews on this engine (as {@link PreviewManagerIT#config} on 20.10). */
  Map<String, Object> config(Path data, String router, Map<String, Object> extra) {
    Map<String, Object> preview = TestApps.caddyPreview(bed, engine, INSTANCE);
    preview.put("router", router);
    preview.put("readyTimeout", "20s");
    preview.putAll(extra);
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("dataDir", data.toString());
    root.put("preview", preview);
    root.put("git", Map.of("allowFile", "true"));
    root.put("orchestrator", Map.of());
    return root;
  }

  List<String> containers(String previewId) {
    return TestApps.docker(engine, "ps", "-aq", "--filter", "label=dev.byop.preview=" + previewId);
  }

  static String appId(String kind) {
    return kind + "-is" + RUN;
  }

  static App app(String id, String dir, boolean health) {
    Component c = Component.of("web", GitSource.of(repo.url()), 8080).withContext(dir, "Dockerfile");
    return new App(id, id, List.of(health ? c.withHealthPath("/index.html") : c));
  }

  static List<String> log(Byop byop, String previewId) {
    return byop.previews().logs(previewId, 0, 100_000).stream().map(LogLine::text).toList();
  }

  @Test
  void aBuildTagThatImitatesACommitsTagIsRefusedAndThePreviewRunsItsOwnCommit(@TempDir Path data) throws Exception {
    Map<String, Object> cfg = config(data, "caddy", Map.of());
    @SuppressWarnings("unchecked")
    Map<String, Object> preview = (Map<String, Object>) cfg.get("preview");
    preview.remove("imageRepository"); // builds and previews under the default local repository, as a host runs them
    String id = appId("tag");
    try (Byop byop = PreviewManagerIT.byop(cfg, new CliImageBuilder(engine, data), new LocalPreviewDeployerFactory())) {
      byop.store().saveApp(new App(id, id, List.of(Component.of("web", GitSource.of(repo.url()), 8080)
          .withContext("web", "Dockerfile").withHealthPath("/index.html"))));
      String v1Tag = v1.substring(0, 12);
      ValidationException refused = null;
      try {
        // v2's sources under v1's commit tag: a preview of v1 would reuse it
        BuildJob job = byop.orchestrator().requestBuild(id, BuildConfig.builder().component("web").commit(v2).tag(v1Tag).build());
        BuildJob done = byop.orchestrator().await(job.id(), Duration.ofMinutes(3));
        assertEquals(BuildStatus.SUCCESS, done.status(), String.valueOf(done.error()));
      } catch (ValidationException e) {
        refused = e;
      }
      Preview p = byop.previews().createPreview(id, v1);
      Preview running = byop.previews().await(p.id(), Duration.ofMinutes(3));
      assertEquals(PreviewStatus.RUNNING, running.status(), String.valueOf(running.error()));
      String page = LocalPreviewDeployerIT.get(bed.caddy().httpUri(), running.hostname(), "/index.html");
      assertTrue(page.contains("web v1") && !page.contains("web v2"), "the preview of v1 runs v1, not an image a user tagged like v1: " + page);
      assertNotNull(refused, "a tag equal to a commit prefix must be refused");
      assertEquals("build.tag", refused.field());
      assertTrue(refused.getMessage().contains(v1Tag) && refused.getMessage().contains("reserved"), refused.getMessage());
      byop.previews().deletePreview(p.id());
    }
  }

  @Test
  void anImageCarryingTraefikLabelsIsRefusedNamingImageComponentAndLabel(@TempDir Path data) throws Exception {
    String id = appId("evil");
    try (Byop byop = PreviewManagerIT.byop(config(data, "caddy", Map.of()), new CliImageBuilder(engine, data),
        new LocalPreviewDeployerFactory())) {
      byop.store().saveApp(app(id, "evil", true));
      Preview p = byop.previews().createPreview(id);
      Preview done = byop.previews().await(p.id(), Duration.ofMinutes(3));
      assertEquals(PreviewStatus.FAILED, done.status(), "an image with router labels must not run");
      String e = String.valueOf(done.error());
      assertTrue(e.contains("byop-it-preview/" + id + "/web:") && e.contains("'web'") && e.contains("traefik."), e);
      assertEquals(List.of(), containers(p.id()), "nothing of it runs");
    }
  }

  @Test
  void twoPreviewsEntryContainersShareNoNetworkWhenTraefikRoutes(@TempDir Path data) throws Exception {
    // a stand-in for Traefik (none can be pulled here): answers every request; the network layout is what is tested
    String traefik = "byop-it-preview-traefik-" + RUN;
    created.put(traefik, engine);
    Path ctx = data.resolve("fake-traefik");
    write(ctx.resolve("Dockerfile"), "FROM " + bed.baseImage() + "\nRUN mkdir -p /www && echo fake > /www/index.html\n"
        + "ENTRYPOINT [\"/bin/sh\", \"-c\", \"exec httpd -f -p 80 -h /www\", \"fake-traefik\"]\n");
    TestApps.dockerBuild(engine, ctx, traefik + ":1");
    int port = 21000 + (int) (Long.parseLong(RUN, 16) % 4000);
    Map<String, Object> t = Map.of("image", traefik + ":1", "network", traefik, "containerName", traefik,
        "bindAddress", engine.address(), "port", Integer.toString(port));
    String id = appId("net");
    try (Byop byop = PreviewManagerIT.byop(config(data, "traefik", Map.of("traefik", t)), new CliImageBuilder(engine, data),
        new LocalPreviewDeployerFactory())) {
      byop.store().saveApp(new App(id, id, List.of(Component.of("web", GitSource.of(repo.url()), 8080)
          .withContext("web", "Dockerfile").withHealthPath("/index.html"))));
      Preview a = byop.previews().createPreview(id);
      Preview b = byop.previews().createPreview(id);
      Preview ra = byop.previews().await(a.id(), Duration.ofMinutes(3));
      Preview rb = byop.previews().await(b.id(), Duration.ofMinutes(3));
      assertEquals(PreviewStatus.RUNNING, ra.status(), String.valueOf(ra.error()));
      assertEquals(PreviewStatus.RUNNING, rb.status(), String.valueOf(rb.error()));
      Set<String> netsA = networks(containers(a.id()).get(0));
      Set<String> netsB = networks(containers(b.id()).get(0));
      Set<String> shared = new HashSet<>(netsA);
      shared.retainAll(netsB);
      assertEquals(Set.of(), shared, "entry containers of two previews share a network: " + netsA + " / " + netsB);
      // the router still reaches each preview: it is a member of both route networks
      Set<String> router = networks(traefik);
      for (Set<String> nets : List.of(netsA, netsB)) {
        assertTrue(nets.stream().anyMatch(router::contains), "Traefik reaches " + nets + " (it is on " + router + ")");
      }
      for (String net : netsA) {
        List<String> members = TestApps.docker(engine, "network", "inspect", "--format",
            "{{range .Containers}}{{.Name}} {{end}}", net);
        assertTrue(String.join(" ", members).split(" ").length <= 2, "entry service and router only: " + members);
      }
      byop.previews().deletePreview(a.id());
      byop.previews().deletePreview(b.id());
      assertEquals(List.of(), TestApps.docker(engine, "network", "ls", "-q", "--filter", "label=dev.byop.preview=" + a.id()),
          "the route network is gone with the preview");
    }
  }

  @Test
  void composeFilesHoldingEnvValuesAre0600In0700Directories(@TempDir Path data) throws Exception {
    String id = appId("mode");
    try (Byop byop = PreviewManagerIT.byop(config(data, "plain", Map.of()), new CliImageBuilder(engine, data),
        new LocalPreviewDeployerFactory())) {
      byop.store().saveApp(new App(id, id, List.of(Component.of("web", GitSource.of(repo.url()), 8080)
          .withContext("web", "Dockerfile").withHealthPath("/index.html").withEnv(Map.of("DB_PASSWORD", "canary-" + RUN)))));
      Preview p = byop.previews().createPreview(id);
      Preview running = byop.previews().await(p.id(), Duration.ofMinutes(3));
      assertEquals(PreviewStatus.RUNNING, running.status(), String.valueOf(running.error()));
      List<Path> files;
      try (Stream<Path> s = Files.walk(data)) {
        files = s.filter(f -> f.getFileName().toString().equals("docker-compose.yml")).toList();
      }
      assertEquals(1, files.size(), files.toString());
      Path f = files.get(0);
      assertTrue(Files.readString(f).contains("canary-" + RUN), "the file holds the env value");
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), "file");
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f.getParent())), "its directory");
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f.getParent().getParent())),
          "the work directory");
      byop.previews().deletePreview(p.id());
    }
  }

  Set<String> networks(String container) {
    List<String> out = TestApps.docker(engine, "inspect", "--format",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", container);
    Set<String> s = new HashSet<>();
    for (String l : out) for (String n : l.trim().split("\\s+")) if (!n.isBlank()) s.add(n);
    return s;
  }

  @Test
  void previewsAnsweringAnEndlessBodyOrAnEndlessHeaderEndInBoundedTime(@TempDir Path data) throws Exception {
    try (Byop byop = PreviewManagerIT.byop(config(data, "plain", Map.of("readyTimeout", "15s")),
        new CliImageBuilder(engine, data), new LocalPreviewDeployerFactory())) {
      String chunked = appId("chunk");
      String header = appId("hdr");
      byop.store().saveApp(app(chunked, "chunked", false));
      byop.store().saveApp(app(header, "header", false));
      long t0 = System.nanoTime();
      Preview c = byop.previews().createPreview(chunked);
      Preview h = byop.previews().createPreview(header);
      Preview rc = byop.previews().await(c.id(), Duration.ofSeconds(150));
      Preview rh = byop.previews().await(h.id(), Duration.ofSeconds(150));
      long s = (System.nanoTime() - t0) / 1_000_000_000;
      assertEquals(PreviewStatus.RUNNING, rc.status(), "200 with an endless chunked body is an answer: " + rc.error());
      assertEquals(PreviewStatus.FAILED, rh.status(), "an endless header is no answer, and the probe ends");
      assertTrue(String.valueOf(rh.error()).contains("longer than 8192 bytes"), rh.error());
      assertTrue(s < 150, s + " s");
      byop.previews().deletePreview(c.id());
      byop.previews().deletePreview(h.id());
    }
  }

  @Test
  void aComponentPrinting200KbOnOneLineIsCutWithAMarkerInThePreviewLog(@TempDir Path data) throws Exception {
    String id = appId("line");
    try (Byop byop = PreviewManagerIT.byop(config(data, "plain", Map.of()), new CliImageBuilder(engine, data),
        new LocalPreviewDeployerFactory())) {
      byop.store().saveApp(app(id, "longline", false));
      Preview p = byop.previews().createPreview(id);
      Preview done = byop.previews().await(p.id(), Duration.ofMinutes(3));
      assertEquals(PreviewStatus.FAILED, done.status());
      List<String> lines = log(byop, p.id());
      int longest = lines.stream().mapToInt(String::length).max().orElse(0);
      assertTrue(longest < 20 * 1024, "longest preview log line: " + longest + " characters");
      assertTrue(lines.stream().anyMatch(l -> l.startsWith("[web] xxxx") && l.contains("line cut")), () -> "the cut is marked: "
          + lines.stream().map(l -> l.length() > 120 ? l.substring(0, 60) + "…" + l.substring(l.length() - 60) : l).toList());
      assertTrue(String.valueOf(done.error()).length() < 100 * 1024, "error of " + String.valueOf(done.error()).length());
      assertNull(byop.previews().preview(p.id()).url());
    }
  }
}
