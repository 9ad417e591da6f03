package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.ByopLabels;
import dev.byop.testing.RequiresTestbed;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SSH deployer's orphan sweep as a host application gets it: a {@code Byop} configured with the {@code ssh}
 * deployer and a static pool holding vps1 sweeps, at start, the containers and directory of a preview its store does
 * not know, and leaves another installation's preview alone.
 */
@RequiresTestbed
class SshSweepThroughByopIT {

  static final String RUN = TestbedEnv.RUN;
  static final int ROUTER_PORT = 30000 + (int) (Long.parseLong(RUN, 16) % 5000);
  static final int ADMIN_PORT = 35000 + (int) (Long.parseLong(RUN, 16) % 5000);
  static final String INSTANCE = "ssh-sweep-" + RUN;
  static final String ORPHAN = "sweeporphan" + RUN;
  static final String ORPHAN_BOX = "byop-it-ssh-sweep-orphan-" + RUN;
  static final String FOREIGN_BOX = "byop-it-ssh-sweep-foreign-" + RUN;
  static final String BASE_DIR = "byop-it-ssh-sweep-" + RUN;

  @TempDir static Path dataDir;
  static TestbedEnv bed;
  static SshConnections pool;
  static SshConnection vps1;

  static RemoteCaddy caddy;

  @BeforeAll
  static void setUp() {
    bed = TestbedEnv.load();
    pool = new SshConnections(SshOptions.defaults());
    vps1 = pool.get(bed.vps(1));
    // a Caddy of this test on vps1 (the sweep removes the orphan's route through its admin API)
    caddy = RemoteCaddy.start(bed, pool, 1, ADMIN_PORT, ROUTER_PORT, "sweep-caddy");
  }

  @AfterAll
  static void tearDown() {
    for (String box : List.of(ORPHAN_BOX, FOREIGN_BOX)) {
      vps1.exec(List.of("docker", "rm", "-f", box), StdinSource.NONE, null, Duration.ofSeconds(30));
    }
    caddy.close();
    vps1.run(List.of("rm", "-rf", "--", vps1.home() + "/" + BASE_DIR));
    pool.close();
  }

  static void waitFor(String what, Duration within, BooleanSupplier condition) {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + " not within " + within);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  static void runBox(String name, String instance) {
    bed.vpsDocker(1, "run", "-d", "--name", name, "--network", "none", "--label", ByopLabels.MANAGED + "=true",
        "--label", ByopLabels.PREVIEW + "=" + ORPHAN,
        "--label", ByopLabels.INSTANCE + "=" + instance, bed.baseImage(), "sleep", "600");
  }

  static boolean exists(String box) {
    return !bed.vpsDocker(1, "ps", "-a", "-q", "--filter", "name=^" + box + "$").isBlank();
  }

  static ByopConfig config() throws Exception {
    Map<String, Object> host = new LinkedHashMap<>();
    host.put("id", "vps1");
    host.put("address", bed.get("VPS1_ADDRESS"));
    host.put("port", bed.get("VPS1_SSH_PORT"));
    host.put("user", bed.get("VPS1_USER"));
    host.put("privateKey", Map.of("file", bed.key().toString()));
    host.put("knownHosts", bed.knownHosts().toString());
    host.put("capacity", "1");
    Map<String, Object> preview = new LinkedHashMap<>();
    preview.put("provider", "ssh");
    preview.put("domain", "sweep-it.byop.test");
    preview.put("baseDir", BASE_DIR);
    preview.put("instance", INSTANCE);
    // an hour: only the sweep at start can remove the orphan within the test's deadline
    preview.put("sweepInterval", "1h");
    preview.put("router", Map.of("adminPort", String.valueOf(ADMIN_PORT), "server", "byop", "httpPort", String.valueOf(ROUTER_PORT)));
    preview.put("docker", Map.of("host", bed.localDockerHost()));
    return ByopConfig.of(Map.of("dataDir", Files.createDirectories(dataDir.resolve("data")).toString(), "preview", preview,
        "cloud", Map.of("provider", "static", "hosts", List.of(host)), "orchestrator", Map.of("workers", "1")));
  }

  @Test
  void anOrphanPreviewOnVps1IsSweptAtStartThroughByop() throws Exception {
    runBox(ORPHAN_BOX, INSTANCE);
    runBox(FOREIGN_BOX, "another-installation-" + RUN);
    String dir = vps1.home() + "/" + BASE_DIR + "/byop-" + ORPHAN;
    vps1.mkdirs(dir, 0700);
    vps1.write(dir + "/docker-compose.yml", "services: {}\n".getBytes(StandardCharsets.UTF_8), 0600);
    // the orphan's route, as a deploy that died after routing leaves it
    String route = "{\"@id\":\"byop-" + ORPHAN + "\",\"match\":[{\"host\":[\"" + ORPHAN + ".sweep-it.byop.test\"]}],"
        + "\"handle\":[{\"handler\":\"static_response\",\"body\":\"orphan\"}]}";
    assertEquals(200, caddy.admin("POST", "/config/apps/http/servers/byop/routes", route).status());
    assertEquals(200, caddy.admin("GET", "/id/byop-" + ORPHAN, null).status());
    try (Byop byop = Byop.builder().config(config()).discover(getClass().getClassLoader()).build()) {
      assertTrue(byop.store().listActivePreviews().isEmpty(), "the store knows no preview");
      byop.previews();
      waitFor("the sweep at start removing " + ORPHAN_BOX, Duration.ofSeconds(60), () -> !exists(ORPHAN_BOX));
      waitFor("the sweep removing the orphan's directory", Duration.ofSeconds(10),
          () -> !vps1.exec(List.of("test", "-e", dir), StdinSource.NONE, null, Duration.ofSeconds(10)).ok());
      assertTrue(exists(FOREIGN_BOX), "another installation's preview is not this byop's to sweep");
      assertEquals(404, caddy.admin("GET", "/id/byop-" + ORPHAN, null).status(), "the orphan's route is swept too");
    }
    assertEquals("", bed.vpsDocker(1, "ps", "-a", "-q", "--filter", "label=" + ByopLabels.INSTANCE + "=" + INSTANCE).strip());
  }
}
