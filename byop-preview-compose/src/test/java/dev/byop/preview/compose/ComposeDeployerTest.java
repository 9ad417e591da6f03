package dev.byop.preview.compose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.Preview;
import dev.byop.core.PreviewException;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.Cancellation;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.PreviewDeployer.DeployRequest;
import java.util.AbstractSet;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The deployer's reading of what the host's docker answers, against scripted answers. */
class ComposeDeployerTest {
  static final String A = "a".repeat(64);
  static final String B = "b".repeat(64);

  static Placement on(PreviewHost host) {
    return on(host, Map.of());
  }

  /** A placement on {@code host} that hands the deployer these images (component to reference). */
  static Placement on(PreviewHost host, Map<String, String> images) {
    return new Placement() {
      @Override
      public Placed place(DeployRequest request, JobContext context) {
        return new Placed(host, images);
      }

      @Override
      public Optional<PreviewHost> hostOf(Preview preview) {
        return Optional.of(host);
      }

      @Override
      public Map<PreviewHost, Set<String>> hosts() {
        return Map.of(host, Set.of());
      }

      @Override
      public void release(String previewId) { }
    };
  }

  static ComposeDeployer deployer(PreviewHost host) {
    return new ComposeDeployer(on(host), new PlainRouter("127.0.0.1"), ComposeDeployer.Options.of("t"));
  }

  static boolean is(List<String> argv, String... words) {
    return argv.size() > words.length && argv.subList(1, 1 + words.length).equals(List.of(words));
  }

  static String state(String id, String component) {
    return id + "|" + component + "|running|0||0";
  }

  static ComposeDeployer v1(PreviewHost host) {
    return new ComposeDeployer(on(host), new PlainRouter("127.0.0.1"),
        ComposeDeployer.Options.of("t").withCompose(List.of("docker-compose")));
  }

  static final Route ROUTE = new Route("p1", "p1.example.test", "web", 8080);

  static Integer port(ScriptedHost host) {
    return v1(host).publishedPort(host, "p1", "byop-p1", "/w/byop-p1/docker-compose.yml", ROUTE,
        dev.byop.core.spi.LogSink.discard(), Cancellation.none());
  }

  @Test
  void thePublishedPortComesFromComposeWhenTheEngineShowsTwoContainersOrNoPortAndAnUnreadableAnswerFails() {
    // a replacement in flight: two containers of the entry service; Compose knows which one is the service's
    ScriptedHost two = new ScriptedHost(argv -> {
      if (is(argv, "ps")) return new CommandResult(0, List.of(A, B));
      if (argv.get(0).equals("docker-compose")) return new CommandResult(0, List.of("0.0.0.0:40001"));
      throw new AssertionError(argv.toString());
    });
    assertEquals(40001, port(two));
    assertTrue(two.ran.stream().noneMatch(a -> is(a, "port")), "the engine is not asked which of two: " + two.ran);
    // the engine's answer is not a port
    ScriptedHost garbage = new ScriptedHost(argv -> {
      if (is(argv, "ps")) return new CommandResult(0, List.of(A));
      if (is(argv, "port")) return new CommandResult(0, List.of("WARNING: something:else", "no port here"));
      if (argv.get(0).equals("docker-compose")) return new CommandResult(0, List.of("0.0.0.0:40002"));
      throw new AssertionError(argv.toString());
    });
    assertEquals(40002, port(garbage));
    // nobody can say: the failure names the service, the port and what Compose answered
    ScriptedHost none = new ScriptedHost(argv -> {
      if (is(argv, "ps") && argv.contains("label=dev.byop.component=web")) return new CommandResult(1, List.of("boom"));
      if (is(argv, "ps")) return new CommandResult(0, List.of());
      if (argv.get(0).equals("docker-compose")) return new CommandResult(1, List.of("No container found for web_1"));
      throw new AssertionError(argv.toString());
    });
    var e = assertThrows(PreviewException.class, () -> port(none));
    assertTrue(e.getMessage().contains("cannot read the published port of web:8080 on scripted")
        && e.getMessage().contains("No container found"), e.getMessage());
  }

  @Test
  void thePublishedPortOfTheEntryServicesOneContainerIsAskedOfTheEngineWithoutStartingCompose() {
    ScriptedHost host = new ScriptedHost(argv -> {
      if (is(argv, "ps")) return new CommandResult(0, List.of(A));
      if (is(argv, "port")) return new CommandResult(0, List.of("0.0.0.0:49153", "[::]:49153"));
      throw new AssertionError(argv.toString());
    });
    assertEquals(49153, port(host));
    assertEquals(2, host.ran.size(), String.valueOf(host.ran));
    List<String> ps = host.ran.get(0);
    assertTrue(ps.contains("label=dev.byop.preview=p1") && ps.contains("label=dev.byop.component=web")
        && ps.contains("label=dev.byop.instance=t"), ps.toString());
    assertEquals(List.of("docker", "port", A, "8080/tcp"), host.ran.get(1));
  }

  @Test
  void aRedeploysUpGivesReplacedContainersTheStopTimeoutNotComposes10Seconds() throws Exception {
    try (java.net.ServerSocket app = new java.net.ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
      Thread server = new Thread(() -> {
        while (!app.isClosed()) {
          try (java.net.Socket s = app.accept()) {
            s.getInputStream().read(new byte[4096]);
            s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
          } catch (java.io.IOException closed) {
            return;
          }
        }
      });
      server.setDaemon(true);
      server.start();
      ScriptedHost host = ScriptedHost.keepingFiles(argv -> {
        if (is(argv, "image", "inspect")) return new CommandResult(0, List.of("null"));
        if (is(argv, "ps")) return new CommandResult(0, List.of(A));
        if (is(argv, "container", "inspect")) {
          String format = argv.get(argv.indexOf("--format") + 1);
          return new CommandResult(0, format.equals(ComposeDeployer.STATE_FORMAT) ? List.of(state(A, "web"))
              : format.equals("{{.Config.Image}}") ? List.of("img:1") : List.of());
        }
        if (is(argv, "port")) return new CommandResult(0, List.of("127.0.0.1:" + app.getLocalPort()));
        if (argv.get(0).equals("docker-compose")) return new CommandResult(0, List.of());
        throw new AssertionError(argv.toString());
      });
      Placement placement = on(host, Map.of("web", "img:1"));
      ComposeDeployer d = new ComposeDeployer(placement, new PlainRouter("127.0.0.1"), ComposeDeployer.Options.of("t")
          .withCompose(List.of("docker-compose")).withStopTimeout(java.time.Duration.ofSeconds(3)));
      java.time.Instant now = java.time.Instant.EPOCH;
      Preview p = new Preview("p1", "shop", dev.byop.core.PreviewStatus.DEPLOYING, "compose", null, "p1.example.test", null,
          null, null, Map.of(), now, now, null, 1, null);
      dev.byop.core.App shop = new dev.byop.core.App("shop", "shop", List.of(dev.byop.core.Component.of("web",
          dev.byop.core.GitSource.of("https://example.invalid/shop.git"), 8080)));
      var dep = d.deploy(new DeployRequest(p, shop, Map.of("web", dev.byop.core.ImageReference.parse("img:1"))),
          JobContext.of("p1", dev.byop.core.spi.LogSink.discard()));
      assertEquals("http://127.0.0.1:" + app.getLocalPort() + "/", dep.url());
      List<String> up = host.ran.stream().filter(a -> a.get(0).equals("docker-compose") && a.contains("up")).findFirst()
          .orElseThrow(() -> new AssertionError(host.ran));
      assertEquals(List.of("up", "-d", "--remove-orphans", "--timeout", "3"), up.subList(up.indexOf("up"), up.size()));
      assertTrue(host.ran.stream().noneMatch(a -> a.get(0).equals("docker-compose") && a.contains("port")),
          "the published port is read from the engine: " + host.ran);
    }
  }

  @Test
  void aContainerRemovedBetweenPsAndInspectIsListedAgainNotReadAsNoContainers() {
    AtomicInteger ps = new AtomicInteger();
    ScriptedHost host = new ScriptedHost(argv -> {
      if (is(argv, "ps")) return new CommandResult(0, ps.getAndIncrement() == 0 ? List.of(A, B) : List.of(A));
      if (is(argv, "container", "inspect")) {
        return argv.contains(B) ? new CommandResult(1, List.of(state(A, "web"), "Error: No such container: " + B))
            : new CommandResult(0, List.of(state(A, "web")));
      }
      throw new AssertionError(argv.toString());
    });
    List<ComposeDeployer.ContainerState> s = deployer(host).states(host, "p1", Cancellation.none());
    assertEquals(1, s.size());
    assertEquals("web", s.get(0).component());
    assertTrue(s.get(0).ready());
  }

  @Test
  void inspectFailingOnTheSameContainersSaysWhatInspectSaid() {
    ScriptedHost host = new ScriptedHost(argv -> {
      if (is(argv, "ps")) return new CommandResult(0, List.of(A, B));
      return new CommandResult(1, List.of("template parsing error: template: :1:101: executing \"\" at "
          + "<.State.Health>: map has no entry for key \"Health\""));
    });
    var e = assertThrows(PreviewException.class, () -> deployer(host).states(host, "p1", Cancellation.none()));
    assertTrue(e.getMessage().contains("docker container inspect of 2 container(s) on scripted exited with code 1")
        && e.getMessage().contains("map has no entry for key"), e.getMessage());
  }

  @Test
  void theStateFormatReadsNoHealthKeyAContainerWithoutAHealthCheckLacks() {
    // ".State.Health" fails the whole template on every CLI when the container has no health check
    assertTrue(ComposeDeployer.STATE_FORMAT.contains("{{with index .State \"Health\"}}"));
    assertTrue(!ComposeDeployer.STATE_FORMAT.contains(".State.Health"), ComposeDeployer.STATE_FORMAT);
  }

  @Test
  void composeIsFoundOncePerHostV2ElseV1ElseAnErrorNamingBoth() {
    ScriptedHost v1 = new ScriptedHost(argv -> new CommandResult(argv.get(0).equals("docker-compose") ? 0 : 1,
        List.of("docker: 'compose' is not a docker command.")));
    ComposeDeployer d = deployer(v1);
    assertEquals(List.of("docker-compose"), d.composeCommand(v1));
    assertEquals(List.of("docker-compose"), d.composeCommand(v1));
    assertEquals(2, v1.ran.size(), "detected once: " + v1.ran);
    ScriptedHost v2 = ScriptedHost.quiet();
    assertEquals(List.of("docker", "compose"), deployer(v2).composeCommand(v2));
    ScriptedHost none = new ScriptedHost(argv -> new CommandResult(127, List.of("not found")));
    var e = assertThrows(PreviewException.class, () -> deployer(none).composeCommand(none));
    assertTrue(e.getMessage().contains("neither 'docker compose'") && e.getMessage().contains("'docker-compose'"),
        e.getMessage());
  }

  @Test
  void theSweepAsksTheKnownSetAboutEachIdAndNeverCopiesIt() {
    // the manager's set answers contains() from its store (a preview created after its snapshot); its iterator is
    // only the snapshot
    Set<String> known = new AbstractSet<>() {
      @Override
      public boolean contains(Object o) {
        return "p-new".equals(o);
      }

      @Override
      public Iterator<String> iterator() {
        return Collections.emptyIterator();
      }

      @Override
      public int size() {
        return 0;
      }
    };
    ScriptedHost host = new ScriptedHost(argv -> new CommandResult(0, is(argv, "ps", "-a") ? List.of("p-new") : List.of()));
    assertEquals(List.of(), deployer(host).sweep(known, JobContext.of("sweep", l -> { })));
    assertTrue(host.ran.stream().noneMatch(a -> a.contains("label=dev.byop.preview=p-new")),
        "nothing of a known preview is looked up for removal: " + host.ran);
  }

  @Test
  void previewIdsThatCannotNameADirectoryAreRefused() {
    for (String bad : List.of("../x", "a/b", "", "-x", "a".repeat(64), "a b")) {
      assertThrows(ValidationException.class, () -> ComposeDeployer.projectName(bad), bad);
    }
    assertEquals("byop-ab_c-1", ComposeDeployer.projectName("AB_c-1"));
  }

}
