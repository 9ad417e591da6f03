package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.ImageReference;
import dev.byop.core.LogLine;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import dev.byop.core.SecretRef;
import dev.byop.registry.DistributionClient;
import dev.byop.testing.RequiresTestbed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile apps through a whole {@link Byop} (store, BuildKit builder, registry client, ssh deployer on VPS host 1): an
 * app named {@code library} with a component {@code alpine} pushes under the namespace and the host pulls exactly what
 * the build pushed; compose files on the host are 0600 in 0700 directories; a traefik-labelled image is refused; a
 * preview answering an endless chunked body ends its probe.
 */
@RequiresTestbed
class SshIsolationIT {
  static final String NAMESPACE = "byop-it-ssh-" + TestbedEnv.RUN;
  static final String INSTANCE = "ssh-iso-" + TestbedEnv.RUN;
  static TestbedEnv bed;
  static TestRepo repo;
  static Path data;
  static String commit;
  static SshConnections pool;
  static RemoteCaddy caddy;

  @BeforeAll
  static void setUp() throws Exception {
    bed = TestbedEnv.load();
    pool = new SshConnections(SshOptions.defaults());
    caddy = RemoteCaddy.start(bed, pool, 1);
    repo = TestRepo.create("byop-it-ssh-iso-repo");
    data = Files.createTempDirectory("byop-it-ssh-iso-data");
    String base = bed.baseImage();
    repo.write("alpine/Dockerfile", "FROM " + base + "\nRUN mkdir -p /www && echo library-alpine-" + TestbedEnv.RUN
        + " > /www/app.txt && cp /www/app.txt /www/index.html\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n");
    repo.write("evil/Dockerfile", "FROM " + base + "\nLABEL traefik.http.routers.evil.rule=\"Host(`victim.ssh-it.byop.test`)\"\n"
        + "CMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/\"]\n");
    repo.write("chunked/Dockerfile", "FROM " + base + "\nCOPY answer.sh /answer.sh\nRUN chmod 755 /answer.sh\n"
        + "CMD [\"nc\", \"-ll\", \"-p\", \"8080\", \"-e\", \"/answer.sh\"]\n");
    repo.write("chunked/answer.sh", "#!/bin/sh\nread line\nprintf 'HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n'\n"
        + "while :; do printf '400\\r\\n'; head -c 1024 /dev/zero | tr '\\0' z; printf '\\r\\n'; done\n");
    commit = repo.commit("apps");
  }


  @AfterAll
  static void tearDownAll() {
    // a fresh store knows no preview: the sweep removes whatever a failed case of this run left on the host
    try (Byop sweeper = byop("sweep", false)) {
      ((dev.byop.core.internal.DefaultPreviewManager) sweeper.previews()).sweep();
    } catch (RuntimeException e) {
      System.err.println("sweep after SshIsolationIT failed: " + e);
    }
    caddy.close();
    pool.close();
    for (String app : List.of("library/alpine", "evil" + TestbedEnv.RUN + "/web", "chunk" + TestbedEnv.RUN + "/web", "mode" + TestbedEnv.RUN + "/web")) {
      String c12 = commit.substring(0, 12);
      bed.removeLocal("byop/" + app + ":" + c12, bed.testbed.registry().address() + "/" + NAMESPACE + "/" + app + ":" + c12);
    }
    repo.close();
    TestbedEnv.deleteTree(data);
  }

  /** The configuration a host would write: BuildKit on the local engine, the bed's registry, VPS 1 over SSH. */
  static Byop byop(String dir, boolean registryDelivery) {
    var reg = bed.testbed.registry();
    Map<String, Object> registry = new LinkedHashMap<>();
    registry.put("address", reg.address());
    registry.put("namespace", NAMESPACE);
    registry.put("username", reg.user());
    registry.put("password", SecretRef.value(reg.password()));
    registry.put("dockerHost", bed.localDockerHost());
    Map<String, Object> preview = new LinkedHashMap<>();
    preview.put("provider", "ssh");
    preview.put("domain", RemoteCaddy.DOMAIN);
    preview.put("instance", INSTANCE);
    preview.put("readyTimeout", "30s");
    preview.put("stopTimeout", "1s");
    preview.put("router", Map.of("adminPort", RemoteCaddy.ADMIN_PORT, "server", "byop", "httpPort", RemoteCaddy.HTTP_PORT));
    preview.put("docker", Map.of("host", bed.localDockerHost()));
    if (registryDelivery) {
      preview.put("registry", Map.of("address", bed.testbed.vps(1).registry(), "username", reg.user(), "password", SecretRef.value(reg.password())));
    }
    var h = bed.testbed.vps(1);
    Map<String, Object> host = Map.of("id", "vps1", "address", h.address(), "port", h.port(), "user", h.user(),
        "privateKey", SecretRef.file(h.privateKey()), "knownHosts", h.knownHosts().toString(), "capacity", 3);
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("dataDir", data.resolve(dir).toString());
    root.put("git", Map.of("allowFile", true));
    root.put("builder", Map.of("provider", "buildkit", "endpoint", "docker+" + bed.localDockerHost()));
    root.put("registry", registry);
    root.put("preview", preview);
    root.put("cloud", Map.of("provider", "static", "hosts", List.of(host)));
    root.put("orchestrator", Map.of("workers", 2, "pollInterval", "50ms"));
    return Byop.builder().config(ByopConfig.of(root)).discover(SshIsolationIT.class.getClassLoader()).build();
  }

  static App app(String id, String component, String dir) {
    return new App(id, id, List.of(Component.of(component, GitSource.of(repo.url()), 8080).withContext(dir, "Dockerfile")
        .withHealthPath(dir.equals("alpine") ? "/app.txt" : null)));
  }

  static String stat(SshConnection c, String path) {
    return c.run(List.of("stat", "-c", "%a", "--", path)).stdout().strip();
  }

  /** Builds app {@code library} (component {@code alpine}) with the BuildKit builder, which pushes to the registry. */
  static BuildJob buildLibraryAlpine(Byop byop) {
    byop.store().saveApp(app("library", "alpine", "alpine"));
    BuildJob job = byop.orchestrator().await(byop.orchestrator().requestBuild("library", BuildConfig.defaults()).id(), Duration.ofMinutes(3));
    assertEquals(BuildStatus.SUCCESS, job.status(), String.valueOf(job.error()));
    return job;
  }

  @Test
  void appLibraryComponentAlpinePushesUnderTheNamespaceNeverToLibraryAlpine() throws Exception {
    String c12 = commit.substring(0, 12);
    try (Byop byop = byop("push", true)) {
      BuildJob job = buildLibraryAlpine(byop);
      var reg = bed.testbed.registry();
      try (DistributionClient dc = DistributionClient.builder(reg.address())
          .credentials(dev.byop.core.Credentials.basic(reg.user(), reg.password())).build()) {
        assertTrue(dc.headManifest("library/alpine", c12).isEmpty(), "library/alpine is never written");
        assertEquals(reg.address() + "/" + NAMESPACE + "/library/alpine:" + c12, job.image(), "pushed under the namespace");
        assertTrue(dc.headManifest(NAMESPACE + "/library/alpine", c12).isPresent());
      }
    }
  }

  @Test
  void inRegistryModeTheHostPullsTheNameTheBuildPushed() throws Exception {
    String c12 = commit.substring(0, 12);
    try (Byop byop = byop("pull", true)) {
      BuildJob job = buildLibraryAlpine(byop);
      Preview p = byop.previews().createPreview("library", commit);
      Preview running = byop.previews().await(p.id(), Duration.ofMinutes(4));
      List<String> log = byop.previews().logs(p.id(), 0, 10_000).stream().map(LogLine::text).toList();
      assertEquals(PreviewStatus.RUNNING, running.status(), "pushed " + job.image() + "; " + running.error() + "\n" + log);
      String pulled = ImageReference.parse(job.image()).withRegistry(bed.testbed.vps(1).registry()).toString();
      assertTrue(log.stream().anyMatch(l -> l.startsWith("pulled " + pulled + " on vps1")), "the host pulls the pushed name: " + log);
      // exactly what the build pushed: the host's engine records the digest the build's push returned
      String held = bed.vpsDocker(1, "image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", pulled);
      String expected = ImageReference.parse(pulled).name() + "@" + job.digest();
      assertTrue(held.lines().anyMatch(expected::equals), "pushed " + job.digest() + ", vps1 holds " + held);
      System.out.println("SshIsolationIT: build pushed " + job.digest() + "; vps1 pulled " + held.strip());
      byop.previews().deletePreview(p.id());
    }
  }

  @Test
  void theComposeFileOnTheHostIs0600In0700Directories() throws Exception {
    try (Byop byop = byop("modes", false)) {
      String id = "mode" + TestbedEnv.RUN;
      byop.store().saveApp(app(id, "web", "alpine"));
      Preview p = byop.previews().createPreview(id, commit);
      Preview running = byop.previews().await(p.id(), Duration.ofMinutes(4));
      assertEquals(PreviewStatus.RUNNING, running.status(), String.valueOf(running.error()));
      SshConnection c = pool.get(bed.vps(1));
      String dir = bed.vpsHome(1) + "/byop/previews/" + dev.byop.preview.compose.ComposeDeployer.projectName(p.id());
      assertEquals("600", stat(c, dir + "/docker-compose.yml"), "compose file");
      assertEquals("700", stat(c, dir), "its directory");
      assertEquals("700", stat(c, bed.vpsHome(1) + "/byop/previews"), "the previews directory");
      byop.previews().deletePreview(p.id());
    }
  }

  @Test
  void aTraefikLabelledImageIsRefusedNamingImageComponentAndLabel() throws Exception {
    String evil = "evil" + TestbedEnv.RUN;
    try (Byop byop = byop("evil", false)) {
      byop.store().saveApp(app(evil, "web", "evil"));
      Preview e = byop.previews().createPreview(evil, commit);
      Preview refused = byop.previews().await(e.id(), Duration.ofMinutes(4));
      assertEquals(PreviewStatus.FAILED, refused.status(), "an image with router labels must not run");
      String why = String.valueOf(refused.error());
      assertTrue(why.contains("/" + evil + "/web:") && why.contains("'web'") && why.contains("traefik.http.routers.evil.rule"), why);
      byop.previews().deletePreview(e.id());
    }
  }

  @Test
  void aPreviewAnsweringAnEndlessChunkedBodyEndsTheProbe() throws Exception {
    String chunk = "chunk" + TestbedEnv.RUN;
    try (Byop byop = byop("chunk", false)) {
      byop.store().saveApp(app(chunk, "web", "chunked"));
      long t0 = System.nanoTime();
      Preview ch = byop.previews().createPreview(chunk, commit);
      Preview answered = byop.previews().await(ch.id(), Duration.ofMinutes(3));
      long s = (System.nanoTime() - t0) / 1_000_000_000;
      assertEquals(PreviewStatus.RUNNING, answered.status(), "a 200 with an endless chunked body answers (" + s + " s): " + answered.error());
      byop.previews().deletePreview(ch.id());
    }
  }
}
