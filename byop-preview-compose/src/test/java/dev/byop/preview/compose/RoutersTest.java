package dev.byop.preview.compose;

import dev.byop.core.PreviewHostnames;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.byop.core.PreviewException;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.LogSink;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RoutersTest {
  static final Route ROUTE = new Route("p1", "shop-p1.byop.local", "web", 8080);
  /** Traefik's documented docker-provider label grammar for routers, services and the network. */
  static final Pattern TRAEFIK_LABEL = Pattern.compile(
      "traefik\\.enable|traefik\\.docker\\.network"
          + "|traefik\\.http\\.routers\\.[A-Za-z0-9_-]+\\.(rule|entrypoints|service)"
          + "|traefik\\.http\\.services\\.[A-Za-z0-9_-]+\\.loadbalancer\\.server\\.port");

  static ComposeFile file() {
    return ComposeFile.of("byop-p1")
        .withNetwork("preview", ComposeNetwork.owned(Map.of()))
        .withService("web", ComposeService.of("shop/web:1").withNetworks(List.of("preview")))
        .withService("api", ComposeService.of("shop/api:1").withNetworks(List.of("preview")));
  }

  @Test
  void traefikLabelsFollowTheDocumentedSyntax() throws Exception {
    ScriptedHost host = new ScriptedHost(
        argv -> new CommandResult(0, argv.contains("ls") ? List.of("byop-p1_byop-route") : List.of()));
    List<List<String>> ran = host.ran;
    TraefikRouter t = new TraefikRouter(TraefikRouter.Settings.defaults("default"));
    Map<String, String> labels = t.labels(ROUTE, "byop-p1");
    for (String k : labels.keySet()) assertTrue(TRAEFIK_LABEL.matcher(k).matches(), k);
    assertEquals("true", labels.get("traefik.enable"));
    assertEquals("Host(`shop-p1.byop.local`)", labels.get("traefik.http.routers.byop-p1.rule"));
    assertEquals("web", labels.get("traefik.http.routers.byop-p1.entrypoints"));
    assertEquals("byop-p1", labels.get("traefik.http.routers.byop-p1.service"));
    assertEquals("8080", labels.get("traefik.http.services.byop-p1.loadbalancer.server.port"));
    assertEquals("byop-p1_byop-route", labels.get("traefik.docker.network"), "the preview's own route network");

    ComposeFile f = t.prepare(file(), ROUTE);
    JsonNode tree = new ObjectMapper(new YAMLFactory()).readTree(f.toYaml());
    assertEquals("Host(`shop-p1.byop.local`)",
        tree.path("services").path("web").path("labels").path("traefik.http.routers.byop-p1.rule").asText());
    assertEquals(List.of("preview", "byop-route"), f.services().get("web").networks());
    assertEquals(List.of("preview"), f.services().get("api").networks(), "only the entry service joins the route network");
    assertFalse(tree.path("networks").path("byop-route").path("external").asBoolean(), "the project's own network");
    assertFalse(tree.path("networks").toString().contains("byop-traefik"), "no network shared between previews");
    assertTrue(f.services().get("api").labels().isEmpty(), "only the entry service is routed");
    assertTrue(f.services().get("web").ports().isEmpty(), "traefik reaches the container over the route network");
    assertEquals(List.of(), ran, "prepare runs no command");
    assertEquals("http://shop-p1.byop.local/", t.activate(host, ROUTE, null, LogSink.discard()).url());
    assertEquals(List.of("docker", "network", "connect", "byop-p1_byop-route", "byop-traefik"), ran.get(ran.size() - 1),
        "Traefik joins the preview's own route network");
    assertThrows(ValidationException.class, () -> TraefikRouter.routerName("a.b"));
  }

  @Test
  void traefikStartUpFailsClearlyWhenTheImageIsMissing() {
    ScriptedHost host = new ScriptedHost(argv -> new CommandResult(1, List.of("Error: No such image: traefik:v2.11")));
    List<List<String>> ran = host.ran;
    TraefikRouter t = new TraefikRouter(TraefikRouter.Settings.defaults("default"));
    var e = assertThrows(PreviewException.class, () -> t.ensureReady(host, LogSink.discard()));
    assertTrue(e.getMessage().contains("Traefik image 'traefik:v2.11' is not available"), e.getMessage());
    assertTrue(e.getMessage().contains("caddy or plain"), e.getMessage());
    assertEquals(List.of("docker", "image", "inspect", "--format", "{{.Id}}", "traefik:v2.11"), ran.get(0));
  }

  @Test
  void traefikRunCommandIsAnArgumentListWatchingOnlyThisInstance() {
    List<String> cmd = new TraefikRouter(TraefikRouter.Settings.defaults("inst1")).runCommand(List.of("docker"));
    assertEquals(List.of("docker", "run"), cmd.subList(0, 2), "the host's docker");
    assertTrue(cmd.contains("--providers.docker.exposedbydefault=false"));
    assertTrue(cmd.contains("--providers.docker.constraints=Label(`dev.byop.instance`,`inst1`)"));
    assertTrue(cmd.contains("127.0.0.1:80:80"));
  }

  @Test
  void plainPublishesOnLoopbackAndPutsThePortInTheUrl() {
    PlainRouter p = new PlainRouter("127.0.0.1");
    ComposeFile f = p.prepare(file(), ROUTE);
    assertEquals(List.of(PortMapping.loopback(8080)), f.services().get("web").ports());
    RouteEndpoint ep = p.activate(ScriptedHost.quiet(), ROUTE, 49153, LogSink.discard());
    assertEquals("http://127.0.0.1:49153/", ep.url());
    assertEquals(URI.create("http://127.0.0.1:49153/"), ep.probe());
  }

  @Test
  void caddyRouteIsHostMatchedReverseProxyWithByopId() {
    CaddyRouter c = new CaddyRouter(new CaddyRouter.Settings(URI.create("http://127.0.0.1:2019"), "byop",
        URI.create("http://127.0.0.1:8088"), 8088, "127.0.0.1", "byop-"));
    JsonNode r = c.routeJson(ROUTE, 49153);
    assertEquals("byop-p1", r.path("@id").asText());
    assertEquals("shop-p1.byop.local", r.path("match").get(0).path("host").get(0).asText());
    assertEquals("reverse_proxy", r.path("handle").get(0).path("handler").asText());
    assertEquals("127.0.0.1:49153", r.path("handle").get(0).path("upstreams").get(0).path("dial").asText());
    assertEquals("p1", r.path("handle").get(0).path("headers").path("response").path("set").path("X-Byop-Preview")
        .get(0).asText());
    assertEquals(Map.of("X-Byop-Preview", "p1"), c.endpoint(ScriptedHost.quiet(), "p1", ROUTE.hostname(), "http://x/").expectHeaders());
    assertEquals(List.of(PortMapping.loopback(8080)), c.prepare(file(), ROUTE).services().get("web").ports());
    CaddyRouter away = new CaddyRouter(new CaddyRouter.Settings(URI.create("http://127.0.0.1:2019"), "byop",
        URI.create("http://127.0.0.1:8088"), 8088, "10.203.26.2", "byop-"));
    assertEquals(List.of(new PortMapping("10.203.26.2", 0, 8080, "tcp")),
        away.prepare(file(), ROUTE).services().get("web").ports(), "published where Caddy dials");
    assertEquals("10.203.26.2:49153",
        away.routeJson(ROUTE, 49153).path("handle").get(0).path("upstreams").get(0).path("dial").asText());
  }

  @Test
  void hostnamesAreOneSafeUniqueLabelUnderTheDomain() {
    assertEquals("shop-p1.byop.local", PreviewHostnames.hostname("shop", "p1", "byop.local"));
    String longApp = "a".repeat(63);
    String h = PreviewHostnames.hostname(longApp, "k3x9", "byop.local");
    String label = h.substring(0, h.indexOf('.'));
    assertTrue(label.length() <= 63 && label.endsWith("-k3x9"), h);
    String odd = PreviewHostnames.hostname("shop", "Weird/Id With Spaces", "byop.local");
    assertTrue(odd.matches("shop-[0-9a-f]{16}\\.byop\\.local"), odd);
    assertTrue(!odd.equals(PreviewHostnames.hostname("shop", "Weird/Id With Spaces2", "byop.local")));
    assertThrows(ValidationException.class, () -> PreviewHostnames.hostname("shop", "p1", "bad domain"));
    assertThrows(ValidationException.class, () -> PreviewHostnames.checkHostname("h", "a.b.c\n"));
    assertThrows(ValidationException.class, () -> new Route("p1", "nodomain", "web", 80));
    assertThrows(ValidationException.class, () -> new Route("p1", "x.byop.local", "web", 0));
  }

  @Test
  void traefikWatchesTheEngineSocketTheHostsDockerHostNamesUnlessOneIsConfigured() {
    TraefikRouter asked = new TraefikRouter(TraefikRouter.Settings.defaults("i1"));
    ScriptedHost vps = new ScriptedHost(argv -> argv.equals(List.of("printenv", "DOCKER_HOST"))
        ? new CommandResult(0, List.of("unix:///tmp/byop-testbed/vps1/docker.sock")) : new CommandResult(1, List.of()));
    assertEquals("/tmp/byop-testbed/vps1/docker.sock", asked.socket(vps));
    assertTrue(String.join(" ", asked.runCommand(List.of("docker"), asked.socket(vps)))
        .contains("-v /tmp/byop-testbed/vps1/docker.sock:/var/run/docker.sock:ro"));
    // no DOCKER_HOST there (printenv exits 1), or a tcp:// one, or something that is no path: the default socket
    assertEquals("/var/run/docker.sock", asked.socket(new ScriptedHost(argv -> new CommandResult(1, List.of()))));
    assertEquals("/var/run/docker.sock", asked.socket(new ScriptedHost(argv ->
        new CommandResult(0, List.of("tcp://10.0.0.1:2375")))));
    assertEquals("/var/run/docker.sock", asked.socket(new ScriptedHost(argv ->
        new CommandResult(0, List.of("unix:///x/../etc/shadow")))));
    TraefikRouter configured = new TraefikRouter(new TraefikRouter.Settings("traefik:v2.11", "n", "c", "web",
        "127.0.0.1", 80, "i1", "/run/docker.sock"));
    assertEquals("/run/docker.sock", configured.socket(vps));
    dev.byop.core.ValidationException bad = org.junit.jupiter.api.Assertions.assertThrows(
        dev.byop.core.ValidationException.class, () -> new TraefikRouter.Settings("traefik:v2.11", "n", "c", "web",
            "127.0.0.1", 80, "i1", "/var/run/docker.sock:/etc:rw"));
    assertEquals("traefik.dockerSocket", bad.field());
  }
}
