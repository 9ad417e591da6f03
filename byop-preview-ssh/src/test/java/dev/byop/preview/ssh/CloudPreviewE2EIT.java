package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.LogLine;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import dev.byop.testing.RequiresTestbed;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A preview on a host provisioned for it, end to end through {@link Byop}: {@code createPreview} on an app whose
 * cloud is the fake Hetzner or OVH API; the create makes a real host (its own namespace, sshd, and, as the user data
 * asks, a Docker Engine and Caddy coming up after the create, awaited through {@code cloud-init status --wait}); byop
 * waits for ACTIVE, the SSH port and the readiness check, ships the images, routes the preview; its URL answers from
 * the host's own address; deleting the preview deletes the instance (idle time 0), its namespace and known_hosts line.
 */
@RequiresTestbed
class CloudPreviewE2EIT {
  static final String RUN = TestbedEnv.RUN;
  static final String APP = "cloud" + RUN;
  static TestbedEnv bed;
  static TestRepo repo;
  static Path data;

  FakeCloud cloud;
  Path knownHosts;

  @BeforeAll
  static void setUp() throws Exception {
    bed = TestbedEnv.load();
    repo = TestRepo.create("byop-it-cloud-e2e-repo");
    data = Files.createTempDirectory("byop-it-cloud-e2e-data");
    repo.write("web/Dockerfile", "FROM " + bed.baseImage() + "\nCOPY www /www\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n");
    repo.write("web/www/index.html", "web " + RUN + " on a provisioned host\n");
    repo.commit("v1");
  }

  @AfterAll
  static void tearDownAll() {
    repo.close();
    // the images this run built for its app, by their name (never another run's)
    for (String id : bed.docker("image", "ls", "-q", "--filter", "reference=*/" + APP + "/*").lines().map(String::strip)
        .filter(l -> !l.isEmpty()).distinct().toList()) {
      try {
        bed.docker("image", "rm", "-f", id);
      } catch (IllegalStateException gone) {
        // already gone
      }
    }
    TestbedEnv.deleteTree(data);
  }

  @BeforeEach
  void start() throws Exception {
    cloud = new FakeCloud(Path.of("").toAbsolutePath().getParent());
    cloud.defaultCreate = new FakeCloud.Create(0, false, false, true);
    knownHosts = Files.createTempFile(data, "known_hosts", "");
  }

  @AfterEach
  void stop() {
    cloud.close();
    assertTrue(cloud.problems.isEmpty(), cloud.problems.toString());
  }

  Map<String, Object> common(String dir) throws Exception {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("owner", "e2e" + RUN);
    c.put("user", "root");
    c.put("privateKey", Map.of("file", bed.key().toString()));
    c.put("knownHosts", knownHosts.toString());
    c.put("acceptNewHostKey", true);
    c.put("capacity", 2);
    c.put("maxInstances", 2);
    c.put("idleTimeout", "0s");
    c.put("pollInterval", "200ms");
    c.put("sshTimeout", "30s");
    c.put("bootstrapTimeout", "90s");
    return c;
  }

  Byop byop(String dir, Map<String, Object> cloudSection) {
    Map<String, Object> preview = new LinkedHashMap<>();
    preview.put("provider", "ssh");
    preview.put("domain", "cloud-it.byop.test");
    preview.put("instance", "cloud-e2e-" + RUN);
    preview.put("baseDir", "byop-it-cloud-" + RUN);
    preview.put("readyTimeout", "60s");
    preview.put("stopTimeout", "1s");
    preview.put("sweepInterval", "0s");
    preview.put("acquireWait", "3m");
    preview.put("router", Map.of("adminPort", 2019, "server", "byop", "httpPort", 80));
    preview.put("docker", Map.of("host", bed.localDockerHost()));
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("dataDir", data.resolve(dir).toString());
    root.put("git", Map.of("allowFile", true));
    root.put("builder", Map.of("provider", "buildkit", "endpoint", "docker+" + bed.localDockerHost()));
    root.put("preview", preview);
    root.put("cloud", cloudSection);
    root.put("orchestrator", Map.of("workers", 2, "pollInterval", "50ms"));
    return Byop.builder().config(ByopConfig.of(root)).discover(CloudPreviewE2EIT.class.getClassLoader()).build();
  }

  static App app() {
    return new App(APP, APP, List.of(Component.of("web", GitSource.of(repo.url()), 8080).withContext("web", "Dockerfile")
        .withHealthPath("/index.html")));
  }

  /** GET / of the host's port 80 with the preview's Host header, straight to the host's address. */
  static String get(String address, String hostname) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(address, 80), 5000);
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("GET / HTTP/1.1\r\nHost: " + hostname + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      in.transferTo(all);
      return all.toString(StandardCharsets.UTF_8);
    }
  }

  void previewOnAFreshHost(String kind, Map<String, Object> cloudSection) throws Exception {
    try (Byop byop = byop(kind, cloudSection)) {
      byop.store().saveApp(app());
      long t0 = System.nanoTime();
      Preview p = byop.previews().createPreview(APP);
      Preview r = byop.previews().await(p.id(), Duration.ofMinutes(5));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      List<String> log = byop.previews().logs(p.id(), 0, 10_000).stream().map(LogLine::text).toList();
      assertEquals(PreviewStatus.RUNNING, r.status(), r.error() + "\n" + log);
      assertEquals(1, cloud.hosts().size(), "one host made: " + cloud.calls);
      FakeCloud.Host host = cloud.hosts().values().iterator().next();
      assertEquals(cloud.hosts().keySet().iterator().next(), r.host());
      String hostname = r.hostname().split("\\.", 2)[0] + ".cloud-it.byop.test";
      assertEquals("http://" + hostname + "/", r.url());
      String answer = get(host.address(), hostname);
      long urlMs = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(answer.startsWith("HTTP/1.1 200") && answer.endsWith("web " + RUN + " on a provisioned host\n"), answer);
      assertEquals(host.address() + " " + host.hostKey(), Files.readString(knownHosts).strip());
      long calls = cloud.calls.size();
      System.out.printf("CloudPreviewE2EIT %s: createPreview -> RUNNING in %d ms, URL answered at %d ms, %d provider calls: %s%n",
          kind, ms, urlMs, calls, cloud.calls);

      assertEquals(PreviewStatus.STOPPED, byop.previews().deletePreview(r.id()).status());
      assertEquals(0, cloud.instanceCount(), "the instance went with its last preview: " + cloud.calls);
      assertFalse(Files.exists(Path.of("/var/run/netns/byop-cloud" + host.n())), "the host's namespace is gone");
      assertEquals("", Files.readString(knownHosts).strip(), "its known_hosts line is gone");
      assertTrue(byop.store().hostLeases().isEmpty());
    }
  }

  @Test
  void hetznerPreviewOnAFreshHost() throws Exception {
    Path token = Files.writeString(data.resolve("hcloud-token"), FakeCloud.HCLOUD_TOKEN);
    Map<String, Object> c = common("hetzner");
    c.put("provider", "hetzner");
    c.put("endpoint", cloud.hetznerBase().toString());
    c.put("token", Map.of("file", token.toString()));
    c.put("serverType", "cx22");
    c.put("image", "debian-12");
    c.put("location", "fsn1");
    c.put("sshKey", "byop-testbed");
    cloud.creates.add(new FakeCloud.Create(2, false, true, true)); // made but answered 500; sshd 2 s after ACTIVE
    previewOnAFreshHost("hetzner", c);
    assertEquals(1, cloud.count("hetzner POST /servers"));
  }

  @Test
  void ovhPreviewOnAFreshHost() throws Exception {
    Path secret = Files.writeString(data.resolve("ovh-secret"), FakeCloud.OVH_AS);
    Path consumer = Files.writeString(data.resolve("ovh-consumer"), FakeCloud.OVH_CK);
    Map<String, Object> c = common("ovh");
    c.put("provider", "ovh");
    c.put("endpoint", cloud.ovhBase().toString());
    c.put("applicationKey", FakeCloud.OVH_AK);
    c.put("applicationSecret", Map.of("file", secret.toString()));
    c.put("consumerKey", Map.of("file", consumer.toString()));
    c.put("project", FakeCloud.OVH_PROJECT);
    c.put("region", "GRA11");
    c.put("flavorId", "d2-2");
    c.put("imageId", "debian-12");
    c.put("sshKeyId", "key-1");
    previewOnAFreshHost("ovh", c);
    assertEquals(1, cloud.count("ovh POST /cloud/project/"));
  }
}
