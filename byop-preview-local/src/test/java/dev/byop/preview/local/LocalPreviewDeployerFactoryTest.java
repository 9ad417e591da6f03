package dev.byop.preview.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.ByopConfig;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.PreviewDeployerFactory;
import dev.byop.core.spi.ProviderContext;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class LocalPreviewDeployerFactoryTest {
  static ProviderContext ctx(String yaml) {
    ByopConfig c = ByopConfig.parse(yaml, "test.yml");
    return new ProviderContext(c, c.section("preview"), Path.of("/tmp/byop-data"));
  }

  /** A host's configuration with the local deployer and {@code extra} lines in the preview section. */
  static ByopConfig hostConfig(Path data, String extra) {
    return ByopConfig.parse("""
        dataDir: %s
        store: { provider: jdbc }
        preview:
          provider: local
          dockerHost: tcp://127.0.0.1:1
          ttl: 2h
          maxPerApp: 3
          sweepInterval: 0s
        %s""".formatted(data, extra.indent(2)), "host.yml");
  }

  static dev.byop.core.Byop byop(ByopConfig c) {
    return dev.byop.core.Byop.builder().config(c).register(new dev.byop.store.jdbc.JdbcStoreFactory())
        .register(new LocalPreviewDeployerFactory()).build();
  }

  @Test
  void thePreviewSectionIsCheckedAsAWholeWhenByopStarts(@org.junit.jupiter.api.io.TempDir Path data) {
    // the manager's keys and the deployer's sit side by side in one section
    try (var b = byop(hostConfig(data, "router: caddy"))) {
      assertEquals("local", b.describeProviders().get(4).id());
    }
    var typo = assertThrows(dev.byop.core.ConfigException.class, () -> byop(hostConfig(data, "tll: 1h")));
    assertTrue(typo.getMessage().contains("preview.tll") && typo.getMessage().contains("unknown key"),
        typo.getMessage());
    var nested = assertThrows(dev.byop.core.ConfigException.class,
        () -> byop(hostConfig(data, "caddy: { admn: x }")));
    assertTrue(nested.getMessage().contains("preview.caddy.admn"), nested.getMessage());
    var value = assertThrows(RuntimeException.class, () -> byop(hostConfig(data, "reapInterval: soon")));
    assertTrue(value.getMessage().contains("preview.reapInterval"), value.getMessage());
  }

  @Test
  void publishAddressIsAnIpv4AddressAndTheDefaultUpstreamOfCaddy(@org.junit.jupiter.api.io.TempDir Path data) {
    var bad = assertThrows(ValidationException.class, () -> LocalPreviewOptions.from(
        ctx("preview: { publishAddress: '10.0.0.1 --privileged' }").settings(), data));
    assertTrue(bad.getMessage().contains("preview.publishAddress") && bad.getMessage().contains("IPv4"),
        bad.getMessage());
    LocalPreviewOptions o = LocalPreviewOptions.from(ctx("preview: { publishAddress: 10.203.36.2 }").settings(), data);
    assertEquals("10.203.36.2", o.caddy().upstreamHost());
    assertEquals("10.203.36.2", LocalPreviewOptions.from(
        ctx("preview: { publishAddress: 10.203.36.2, caddy: { upstreamHost: 10.1.1.1 } }").settings(), data)
        .publishAddress());
    assertEquals("10.1.1.1", LocalPreviewOptions.from(
        ctx("preview: { publishAddress: 10.203.36.2, caddy: { upstreamHost: 10.1.1.1 } }").settings(), data)
        .caddy().upstreamHost());
    assertEquals("127.0.0.1", LocalPreviewOptions.from(ctx("preview: {}").settings(), data).publishAddress());
  }

  @Test
  void isFoundByServiceLoaderAsLocal() {
    List<String> ids = ServiceLoader.load(PreviewDeployerFactory.class).stream().map(p -> p.get().id()).toList();
    assertTrue(ids.contains("local"), ids.toString());
  }

  @Test
  void isNotApplicableWithoutAnEngineSocket() {
    var a = new LocalPreviewDeployerFactory().applicability(ctx("preview: { dockerHost: unix:///nonexistent.sock }"));
    assertFalse(a.applicable());
    assertTrue(a.reason().contains("/nonexistent.sock"), a.reason());
  }

  @Test
  void readsItsOptionsWithDefaults() {
    LocalPreviewOptions o = LocalPreviewOptions.from(ctx("""
        preview:
          router: caddy
          readyTimeout: 90s
          docker: /usr/bin/docker
          caddy: { admin: "http://127.0.0.1:2019", listener: "http://127.0.0.1:8088", publicPort: 8088 }
        """).settings(), Path.of("/data"));
    assertEquals("byop.local", o.domain());
    assertEquals("caddy", o.router());
    assertEquals(Duration.ofSeconds(90), o.readyTimeout());
    assertEquals(List.of("/usr/bin/docker"), o.docker());
    assertEquals(Path.of("/data/previews"), o.workDir());
    assertEquals(8088, o.caddy().publicPort());
    assertEquals("byop-", o.caddy().routeIdPrefix());
    assertEquals("traefik:v2.11", o.traefik().image());
    assertEquals("traefik", LocalPreviewOptions.from(ctx("preview: {}").settings(), Path.of("/d")).router(),
        "Traefik is the default router, as in the seed");
    assertThrows(ValidationException.class,
        () -> LocalPreviewOptions.from(ctx("preview: { router: nginx }").settings(), Path.of("/d")));
    assertThrows(ValidationException.class,
        () -> LocalPreviewOptions.from(ctx("preview: { domain: 'bad domain' }").settings(), Path.of("/d")));
  }

  @Test
  void caddyAddressesWithoutSchemeOrHostNameTheKeyAndTheRule() {
    // what a new user writes from Caddy's own "admin.listen" value
    for (String key : List.of("admin", "listener")) {
      for (String bad : List.of("127.0.0.1:2019", "localhost:2019", "https://127.0.0.1:2019", "http://u:p@h:1", "::")) {
        var e = assertThrows(ValidationException.class, () -> LocalPreviewOptions.from(ctx(
            "preview: { router: caddy, caddy: { " + key + ": '" + bad + "' } }").settings(), Path.of("/d")), bad);
        assertEquals("preview.caddy." + key, e.field(), e.getMessage());
        assertTrue(e.getMessage().contains("http URL with a host"), e.getMessage());
      }
    }
  }

  @Test
  void createsTheComposeDeployerWithTheConfiguredRouterOnTheLocalHost() {
    var d = new LocalPreviewDeployerFactory().create(ctx("""
        preview: { router: caddy, instance: i1, docker: /usr/bin/docker, readyTimeout: 7s, workDir: /tmp/byop-w }
        """));
    assertTrue(d instanceof dev.byop.preview.compose.ComposeDeployer, d.getClass().toString());
    var c = (dev.byop.preview.compose.ComposeDeployer) d;
    assertEquals("caddy", c.router().id());
    assertEquals(Duration.ofSeconds(7), c.options().readyTimeout());
    assertEquals("i1", c.options().instance());
    var host = c.placement().hosts().keySet().iterator().next();
    assertEquals(List.of("/usr/bin/docker"), host.docker());
    assertEquals("/tmp/byop-w", host.workDir());
    assertEquals("byop.local", host.id());
  }
}
