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
    assertSame(deployer, byop.previewDeployer());
    assertSame(cloud, seenByDeployer.get(), "the deployer got the instance Byop owns");
    assertSame(cloud, byop.cloudProvider().orElseThrow());
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
