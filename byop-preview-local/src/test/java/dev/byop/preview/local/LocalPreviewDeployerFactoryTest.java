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
}
