package dev.byop.examples.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.ByopConfig;
import dev.byop.core.ConfigException;
import dev.byop.core.PreviewException;
import dev.byop.core.SecretRef;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.CloudProvider.HostLease;
import dev.byop.core.spi.ProviderContext;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FixedHostsCloudProviderTest {
  private final FixedHostsCloudProviderFactory factory = new FixedHostsCloudProviderFactory();

  private static Map<String, Object> host(String name, int capacity) {
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("name", name);
    h.put("address", "10.203.0.2");
    h.put("privateKey", SecretRef.value("not-a-real-key"));
    h.put("hostKeyFingerprint", "SHA256:AAAA");
    h.put("capacity", capacity);
    return h;
  }

  private static ProviderContext context(List<Map<String, Object>> hosts) {
    ByopConfig config = ByopConfig.of(Map.of("cloud", Map.of("provider", "example-fixed", "hosts", hosts)));
    return new ProviderContext(config, config.section("cloud"), Path.of("unused"));
  }

  @Test
  void slotsGoToTheLeastLoadedHostAndTheSamePreviewKeepsItsSlot() {
    try (CloudProvider p = factory.create(context(List.of(host("a", 2), host("b", 1))))) {
      assertEquals("a", p.acquire("p1", Duration.ZERO).host().id());
      assertEquals("b", p.acquire("p2", Duration.ZERO).host().id());
      assertEquals("a", p.acquire("p1", Duration.ZERO).host().id(), "a retried acquire keeps its slot");
      assertEquals("a", p.acquire("p3", Duration.ZERO).host().id());
      assertEquals(List.of("p1", "p3"), p.hosts().get(0).previews());
      assertEquals(List.of("p2"), p.hosts().get(1).previews());
      PreviewException full = assertThrows(PreviewException.class, () -> p.acquire("p4", Duration.ofMillis(50)));
      assertTrue(full.getMessage().contains("a 2/2, b 1/1"), full.getMessage());
      p.release("p2");
      p.release("p2");
      assertEquals("b", p.acquire("p4", Duration.ZERO).host().id());
    }
  }

  @Test
  void aWaitingAcquireGetsTheSlotAnotherPreviewReleases() throws Exception {
    try (CloudProvider p = factory.create(context(List.of(host("only", 1))))) {
      p.acquire("first", Duration.ZERO);
      CompletableFuture<HostLease> waiting =
          CompletableFuture.supplyAsync(() -> p.acquire("second", Duration.ofSeconds(30)));
      assertFalse(waiting.isDone());
      p.release("first");
      assertEquals("only", waiting.get(10, TimeUnit.SECONDS).host().id());
    }
  }

  @Test
  void notApplicableWithoutHostsAndConfigurationErrorsNameTheKey() {
    ByopConfig empty = ByopConfig.of(Map.of("cloud", Map.of("provider", "example-fixed")));
    assertFalse(factory.applicability(new ProviderContext(empty, empty.section("cloud"), Path.of("x"))).applicable());

    Map<String, Object> unpinned = host("a", 1);
    unpinned.remove("hostKeyFingerprint");
    ConfigException e = assertThrows(ConfigException.class, () -> factory.create(context(List.of(unpinned))));
    assertTrue(e.getMessage().contains("cloud.hosts[0].name") && e.getMessage().contains("pin"), e.getMessage());

    ConfigException cap = assertThrows(ConfigException.class, () -> factory.create(context(List.of(host("a", 0)))));
    assertTrue(cap.getMessage().contains("capacity"), cap.getMessage());

    List<Map<String, Object>> dup = new ArrayList<>(List.of(host("a", 1), host("a", 1)));
    assertThrows(ConfigException.class, () -> factory.create(context(dup)));
  }
}
