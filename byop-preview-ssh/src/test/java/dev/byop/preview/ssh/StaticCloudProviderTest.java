package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.PreviewException;
import dev.byop.core.SecretRef;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.CloudProvider;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class StaticCloudProviderTest {

  static CloudProvider.RemoteHost host(String id) {
    return new CloudProvider.RemoteHost(id, "10.203.9." + id.length(), 22, "u", SecretRef.value("k"), "SHA256:" + "A".repeat(43), null, false, Map.of());
  }

  static StaticCloudProvider twoHostsOneSlot(Map<String, String> deployed) {
    return new StaticCloudProvider(List.of(new StaticCloudProvider.PoolHost(host("h1"), 1), new StaticCloudProvider.PoolHost(host("h2"), 1)), deployed);
  }

  @Test
  void thirdPreviewFailsClearlyWhenBothSlotsAreTaken() {
    try (StaticCloudProvider p = twoHostsOneSlot(Map.of())) {
      String a = p.acquire("p1", Duration.ZERO).host().id();
      String b = p.acquire("p2", Duration.ZERO).host().id();
      assertNotEquals(a, b, "one preview per host");
      long t0 = System.nanoTime();
      PreviewException e = assertThrows(PreviewException.class, () -> p.acquire("p3", Duration.ofMillis(300)));
      assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(300), "it waited");
      assertTrue(e.getMessage().contains("p3") && e.getMessage().contains("h1 1/1 [p1]") && e.getMessage().contains("h2 1/1 [p2]"), e.getMessage());
      assertEquals(a, p.acquire("p1", Duration.ZERO).host().id(), "a redeploy keeps its host and needs no new slot");
    }
  }

  @Test
  void waitingPreviewGetsTheSlotOnRelease() throws Exception {
    try (StaticCloudProvider p = twoHostsOneSlot(Map.of("p1", "h1", "p2", "h2"))) {
      CompletableFuture<CloudProvider.HostLease> third = CompletableFuture.supplyAsync(() -> p.acquire("p3", Duration.ofSeconds(20)));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (!third.isDone() && System.nanoTime() < deadline && !p.lockHasWaiters()) {
        Thread.onSpinWait();
      }
      assertTrue(!third.isDone(), "third waits while the pool is full");
      p.release("p2");
      assertEquals("h2", third.get(10, TimeUnit.SECONDS).host().id());
      p.release("p2"); // twice is harmless
      assertEquals(List.of("p3"), p.hosts().get(1).previews());
    }
  }

  @Test
  void alreadyDeployedPreviewsCountAndUnknownHostsAreRefused() {
    try (StaticCloudProvider p = twoHostsOneSlot(Map.of("old", "h1"))) {
      assertEquals("h2", p.acquire("new", Duration.ZERO).host().id());
    }
    ValidationException e = assertThrows(ValidationException.class, () -> twoHostsOneSlot(Map.of("x", "nope")));
    assertTrue(e.getMessage().contains("nope"));
  }

  @Test
  void restoredLeasesCountAndNameTheirHost() {
    CloudProvider.RemoteHost a = new CloudProvider.RemoteHost("a", "10.203.0.9", 22, "u", dev.byop.core.SecretRef.env("K"), "SHA256:x", null,
        false, Map.of());
    StaticCloudProvider pool = new StaticCloudProvider(List.of(new StaticCloudProvider.PoolHost(a, 1)), Map.of());
    assertEquals(java.util.Set.of("p-gone"), pool.restore(Map.of("p-1", "a", "p-gone", "removed-host")));
    assertEquals(List.of("p-1"), pool.hosts().get(0).previews(), "the restored slot counts");
    assertEquals("a", pool.acquire("p-1", Duration.ZERO).host().id(), "a redeploy keeps its host");
    assertThrows(dev.byop.core.PreviewException.class, () -> pool.acquire("p-2", Duration.ofMillis(50)), "the host is full");
    pool.release("p-1");
    assertEquals("a", pool.acquire("p-2", Duration.ZERO).host().id());
  }
}
