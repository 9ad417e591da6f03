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
    return new Placement() {
      @Override
      public Placed place(DeployRequest request, JobContext context) {
        return new Placed(host, Map.of());
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

  @Test
  void thePublishedPortIsReadFromTheEnginesPortList() {
    assertEquals(32839, ComposeDeployer.parsePort(new CommandResult(0, List.of("127.0.0.1:32839->8080/tcp")), 8080));
    // several mappings, IPv4 and IPv6, the wanted one last; a warning line first
    assertEquals(49153, ComposeDeployer.parsePort(new CommandResult(0, List.of("WARNING: something",
        "0.0.0.0:49152->8081/tcp, :::49152->8081/tcp, 0.0.0.0:49153->8080/tcp, :::49153->8080/tcp")), 8080));
    // a port that is exposed but not published, another container port, udp, a failed command
    assertEquals(null, ComposeDeployer.parsePort(new CommandResult(0, List.of("8080/tcp")), 8080));
    assertEquals(null, ComposeDeployer.parsePort(new CommandResult(0, List.of("127.0.0.1:32839->18080/tcp")), 8080));
    assertEquals(null, ComposeDeployer.parsePort(new CommandResult(0, List.of("127.0.0.1:32839->8080/udp")), 8080));
    assertEquals(null, ComposeDeployer.parsePort(new CommandResult(1, List.of("127.0.0.1:32839->8080/tcp")), 8080));
    assertEquals(null, ComposeDeployer.parsePort(new CommandResult(0, List.of()), 8080));
  }
}
