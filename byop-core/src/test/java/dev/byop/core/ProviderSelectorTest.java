package dev.byop.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.spi.Applicability;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.CloudProviderFactory;
import dev.byop.core.spi.ProviderContext;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProviderSelectorTest {

  /** A cloud provider factory whose products just carry its id. */
  record Fake(String id, int priority, String notApplicableBecause) implements CloudProviderFactory {
    @Override
    public Applicability applicability(ProviderContext context) {
      return notApplicableBecause == null ? Applicability.yes() : Applicability.no(notApplicableBecause);
    }

    @Override
    public CloudProvider create(ProviderContext context) {
      return new Named(id);
    }
  }

  record Named(String id) implements CloudProvider {
    @Override
    public HostLease acquire(String previewId, Duration wait) {
      throw new UnsupportedOperationException("not needed by this test");
    }

    @Override
    public void release(String previewId) { }

    @Override
    public List<HostStatus> hosts() {
      return List.of();
    }

    @Override
    public void close() { }
  }

  private static ProviderSelector<CloudProvider> selector() {
    return new ProviderSelector<>("cloud", CloudProviderFactory.class);
  }

  @Test
  void highestApplicablePriorityWins() {
    var s = selector().register(new Fake("low", 1, null)).register(new Fake("high", 10, null))
        .register(new Fake("highest", 100, "no API key configured"));
    var sel = s.select(ByopConfig.defaults());
    assertEquals("high", sel.factory().id());
    assertEquals(1, sel.passedOver().size());
    assertEquals("no API key configured", sel.passedOver().get(0).reason());
    assertEquals("high", ((Named) s.create(ByopConfig.defaults())).id());
  }

  @Test
  void configurationOverridesPriority() {
    var s = selector().register(new Fake("low", 1, null)).register(new Fake("high", 10, null));
    ByopConfig c = ByopConfig.of(Map.of("cloud", Map.of("provider", "low")));
    assertEquals("low", s.select(c).factory().id());
  }

  @Test
  void explicitRegistrationComesBeforeDiscoveryAndShadowsSameId() throws Exception {
    Path jar = pluginJar("static", 1000);
    try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, getClass().getClassLoader())) {
      var s = selector().register(new Fake("mine", 0, null)).discover(loader);
      assertEquals("mine", s.select(ByopConfig.defaults()).factory().id(), "explicit first despite lower priority");
      var shadow = selector().register(new Fake("static", 0, null)).discover(loader);
      var dropped = new java.util.ArrayList<ProviderException.Rejection>();
      assertEquals(1, shadow.candidates(dropped).size());
      assertTrue(dropped.get(0).reason().contains("duplicate id"), dropped.toString());
    }
  }

  @Test
  void noneFitsListsEveryRejection() {
    var s = selector().register(new Fake("a", 1, "needs Docker")).register(new Fake("b", 2, "needs an API key"));
    var e = assertThrows(ProviderException.class, () -> s.select(ByopConfig.defaults()));
    assertEquals(2, e.rejections().size());
    assertTrue(e.getMessage().contains("a: needs Docker") && e.getMessage().contains("b: needs an API key"),
        e.getMessage());
    ByopConfig wantsMissing = ByopConfig.of(Map.of("cloud", Map.of("provider", "ovh")));
    var e2 = assertThrows(ProviderException.class, () -> s.select(wantsMissing));
    assertTrue(e2.getMessage().contains("ovh: configured but no such provider"), e2.getMessage());
    assertTrue(e2.getMessage().contains("a: configuration asks for provider 'ovh'"), e2.getMessage());
    var empty = assertThrows(ProviderException.class, () -> selector().select(ByopConfig.defaults()));
    assertTrue(empty.getMessage().contains("no candidates"), empty.getMessage());
  }

  @Test
  void providerInSeparateJarOnSeparateClassLoaderIsFound(@TempDir Path tmp) throws Exception {
    Path jar = pluginJar("plugin", 5);
    try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, getClass().getClassLoader())) {
      var s = selector().discover(loader);
      var sel = s.select(ByopConfig.defaults());
      assertEquals("plugin", sel.factory().id());
      assertEquals(loader, sel.factory().getClass().getClassLoader());
      CloudProvider p = s.create(ByopConfig.defaults());
      assertEquals("plugin", p.hosts().get(0).host().id());
      // not visible without the plugin's class loader
      var none = assertThrows(ProviderException.class,
          () -> selector().discover(getClass().getClassLoader()).select(ByopConfig.defaults()));
      assertTrue(none.rejections().isEmpty());
    }
  }

  @TempDir Path work;

  /** Compiles a CloudProviderFactory with the given id into a jar with its META-INF/services entry. */
  private Path pluginJar(String id, int priority) throws IOException {
    Path src = work.resolve("src-" + id + "/plugin");
    Files.createDirectories(src);
    String cls = "Plugin" + Character.toUpperCase(id.charAt(0)) + id.substring(1);
    Files.writeString(src.resolve(cls + ".java"), """
        package plugin;
        import dev.byop.core.spi.*;
        import java.util.List;
        public class %1$s implements CloudProviderFactory {
          public String id() { return "%2$s"; }
          public int priority() { return %3$d; }
          public CloudProvider create(ProviderContext c) {
            return new CloudProvider() {
              public HostLease acquire(String p, java.time.Duration w) { throw new UnsupportedOperationException(); }
              public void release(String p) { }
              public List<HostStatus> hosts() {
                return List.of(new HostStatus(new RemoteHost("%2$s", "127.0.0.1", 22, "u",
                    dev.byop.core.SecretRef.value("k"), null, null, false, java.util.Map.of()), 1, List.of()));
              }
              public void close() { }
            };
          }
        }
        """.formatted(cls, id, priority));
    Path classes = work.resolve("classes-" + id);
    Files.createDirectories(classes);
    int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(),
        "-cp", System.getProperty("java.class.path"), src.resolve(cls + ".java").toString());
    assertEquals(0, rc, "plugin compiles");
    Path jar = work.resolve(id + ".jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      out.putNextEntry(new JarEntry("META-INF/services/" + CloudProviderFactory.class.getName()));
      out.write(("plugin." + cls + "\n").getBytes());
      for (Path p : Files.walk(classes).filter(Files::isRegularFile).toList()) {
        out.putNextEntry(new JarEntry(classes.relativize(p).toString()));
        try (OutputStream o = OutputStream.nullOutputStream()) {
          out.write(Files.readAllBytes(p));
        }
      }
    }
    return jar;
  }
}
