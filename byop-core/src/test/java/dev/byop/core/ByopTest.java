package dev.byop.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;

import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.CloudProviderFactory;
import dev.byop.core.spi.PreviewDeployer;
import dev.byop.core.spi.PreviewDeployerFactory;
import dev.byop.core.spi.ProviderContext;
import dev.byop.core.spi.Store;
import dev.byop.core.spi.StoreFactory;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ByopTest {

  @Test
  void providersShareTheInstancesByopOwnsAndEverythingIsClosedOnce() {
    Store store = mock(Store.class);
    CloudProvider cloud = mock(CloudProvider.class);
    AtomicReference<CloudProvider> seenByDeployer = new AtomicReference<>();
    PreviewDeployer deployer = mock(PreviewDeployer.class);
    Byop byop = Byop.builder()
        .register(new StoreFactory() {
          public String id() { return "mock"; }
          public Store create(ProviderContext c) { return store; }
        })
        .register(new CloudProviderFactory() {
          public String id() { return "pool"; }
          public CloudProvider create(ProviderContext c) { return cloud; }
        })
        .register(new PreviewDeployerFactory() {
          public String id() { return "remote"; }
          public PreviewDeployer create(ProviderContext c) {
            seenByDeployer.set(c.providers().find(CloudProvider.class).orElseThrow());
            return deployer;
          }
        })
        .build();
    org.mockito.Mockito.when(store.hostLeases()).thenReturn(java.util.Map.of("p0", "h1"));
    assertSame(deployer, byop.previewDeployer());
    CloudProvider shared = byop.cloudProvider().orElseThrow();
    assertSame(shared, seenByDeployer.get(), "the deployer got the instance Byop owns");
    // which host holds which preview outlives the process: restored on opening, recorded on acquire and release
    verify(cloud, times(1)).restore(java.util.Map.of("p0", "h1"));
    CloudProvider.RemoteHost h1 = new CloudProvider.RemoteHost("h1", "10.203.0.9", 22, "u", SecretRef.env("K"), "SHA256:x",
        null, false, java.util.Map.of());
    org.mockito.Mockito.when(cloud.acquire("p1", java.time.Duration.ZERO)).thenReturn(new CloudProvider.HostLease("p1", h1));
    shared.acquire("p1", java.time.Duration.ZERO);
    verify(store).saveHostLease(org.mockito.ArgumentMatchers.eq("p1"), org.mockito.ArgumentMatchers.eq("h1"),
        org.mockito.ArgumentMatchers.any());
    shared.release("p1");
    verify(cloud).release("p1");
    verify(store).deleteHostLease("p1");
    // a lease the store cannot record is given back: no slot that a restart would not know of
    org.mockito.Mockito.when(cloud.acquire("p2", java.time.Duration.ZERO)).thenReturn(new CloudProvider.HostLease("p2", h1));
    org.mockito.Mockito.doThrow(new StoreException("disk full")).when(store).saveHostLease(
        org.mockito.ArgumentMatchers.eq("p2"), org.mockito.ArgumentMatchers.any(), org.mockito.ArgumentMatchers.any());
    assertThrows(StoreException.class, () -> shared.acquire("p2", java.time.Duration.ZERO));
    verify(cloud).release("p2");
    byop.close();
    byop.close();
    verify(cloud, times(1)).close();
    verify(deployer, times(1)).close();
    verify(store, times(1)).close();
    assertThrows(ByopException.class, byop::imageBuilder);
  }

  @Test
  void describeProvidersSaysWhatWasChosenAndWhy() {
    Store store = mock(Store.class);
    try (Byop byop = Byop.builder()
        .register(new StoreFactory() {
          public String id() { return "mock"; }
          public Store create(ProviderContext c) { return store; }
        })
        .build()) {
      List<Byop.ProviderChoice> choices = byop.describeProviders();
      assertEquals("mock", choices.get(0).id());
      Byop.ProviderChoice builder = choices.get(1);
      assertEquals(Byop.Kind.BUILDER, builder.kind());
      assertEquals(null, builder.id());
      var e = assertThrows(ProviderException.class, byop::imageBuilder);
      assertTrue(e.getMessage().startsWith("builder: no provider fits"), e.getMessage());
      assertTrue(byop.registryClient().isEmpty());
    }
  }

}
