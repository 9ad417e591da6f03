package dev.byop.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.Byop;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.ByopConfig;
import dev.byop.core.PreviewException;
import dev.byop.core.SecretRef;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.CloudProviderFactory;
import dev.byop.examples.plugin.FixedHostsCloudProviderFactory;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example plugin (module byop-example-plugin, its own jar) is found by the host application through
 * {@code Byop.builder().discover(loader)} and used through the cloud provider SPI.
 */
class PluginDiscoveryTest {
  @TempDir Path dir;

  private ByopConfig config() {
    Map<String, Object> host = Map.of("name", "vps1", "address", "10.203.1.2", "user", "byopvps1",
        "privateKey", SecretRef.value("unused-in-this-test"), "hostKeyFingerprint", "SHA256:AAAA", "capacity", 1);
    return ByopConfig.of(Map.of("dataDir", dir.toString(),
        "cloud", Map.of("provider", "example-fixed", "hosts", List.of(host))));
  }

  @Test
  void theHostFindsThePluginOnItsClassPathAndUsesIt() {
    try (Byop byop = Byop.builder().config(config()).discover(getClass().getClassLoader()).build()) {
      Byop.ProviderChoice cloud = byop.describeProviders().stream()
          .filter(c -> c.kind() == Byop.Kind.CLOUD).findFirst().orElseThrow();
      assertEquals("example-fixed", cloud.id());
      assertEquals(FixedHostsCloudProviderFactory.class.getName(), cloud.implementation());

      CloudProvider provider = byop.cloudProvider().orElseThrow();
      assertSame(provider, byop.cloudProvider().orElseThrow(), "opened once, closed by Byop");
      String p1 = preview(byop);
      String p2 = preview(byop);
      assertEquals("vps1", provider.acquire(p1, Duration.ZERO).host().id());
      assertEquals(Map.of(p1, "vps1"), byop.store().hostLeases(), "Byop records the plugin's lease in its store");
      assertThrows(PreviewException.class, () -> provider.acquire(p2, Duration.ofMillis(20)), "capacity is 1");
      provider.release(p1);
      assertEquals("vps1", provider.acquire(p2, Duration.ZERO).host().id());
      assertEquals(List.of(p2), provider.hosts().get(0).previews());
    }
  }

  @Test
  void aPluginJarOnItsOwnClassLoaderIsFoundThroughThatLoaderOnly() throws Exception {
    URL pluginLocation = FixedHostsCloudProviderFactory.class.getProtectionDomain().getCodeSource().getLocation();
    ClassLoader withoutPlugin = new HidingLoader(getClass().getClassLoader(), pluginLocation.toString());
    try (URLClassLoader plugins = new URLClassLoader("plugins", new URL[] {pluginLocation}, withoutPlugin)) {
      // Without the plugin loader, nothing offers 'example-fixed'.
      try (Byop byop = Byop.builder().config(config()).discover(withoutPlugin).build()) {
        assertTrue(byop.cloudProvider().isEmpty());
        String why = byop.describeProviders().stream().filter(c -> c.kind() == Byop.Kind.CLOUD).findFirst()
            .orElseThrow().passedOver().toString();
        assertTrue(why.contains("example-fixed"), why);
      }
      try (Byop byop = Byop.builder().config(config()).discover(plugins).build()) {
        Byop.ProviderChoice cloud = byop.describeProviders().stream()
            .filter(c -> c.kind() == Byop.Kind.CLOUD).findFirst().orElseThrow();
        assertEquals("example-fixed", cloud.id());
        Class<?> factory = plugins.loadClass(cloud.implementation());
        assertSame(plugins, factory.getClassLoader(), "loaded from the plugin jar's own loader");
        assertTrue(CloudProviderFactory.class.isAssignableFrom(factory));
        CloudProvider provider = byop.cloudProvider().orElseThrow();
        String p1 = preview(byop);
        assertEquals("vps1", provider.acquire(p1, Duration.ZERO).host().id());
        provider.release(p1);
        assertTrue(byop.store().hostLeases().isEmpty());
      }
    }
  }

  /** A preview row for a lease to belong to (the store keeps leases only of previews it knows). */
  private static String preview(Byop byop) {
    if (byop.store().findApp("shop").isEmpty()) {
      byop.store().saveApp(App.of("shop", Component.of("web", GitSource.of("https://git.example/s.git"), 8080)));
    }
    return byop.store().createPreview("shop", "example", null, "h" + System.nanoTime() + ".test", Instant.now(), null)
        .id();
  }

  /** The test class path minus the plugin: what a host sees before it adds a plugins directory. */
  private static final class HidingLoader extends ClassLoader {
    private final String hidden;

    HidingLoader(ClassLoader parent, String hidden) {
      super("without-plugin", parent);
      this.hidden = hidden;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (name.startsWith("dev.byop.examples.plugin.")) throw new ClassNotFoundException(name);
      return super.loadClass(name, resolve);
    }

    @Override
    public URL getResource(String name) {
      URL u = super.getResource(name);
      return u != null && u.toString().startsWith(hidden) ? null : u;
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
      List<URL> kept = new ArrayList<>();
      for (URL u : Collections.list(super.getResources(name))) {
        if (!u.toString().startsWith(hidden) && !u.toString().startsWith("jar:" + hidden)) kept.add(u);
      }
      return Collections.enumeration(kept);
    }
  }
}
