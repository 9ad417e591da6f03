package dev.byop.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.ByopConfig;
import dev.byop.core.ConfigException;
import dev.byop.core.SecretRef;
import dev.byop.core.Settings;
import dev.byop.core.spi.ProviderContext;
import dev.byop.core.spi.RegistryClient;
import dev.byop.core.spi.RegistryClientFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class DistributionRegistryClientFactoryTest {
  private static ProviderContext context(Map<String, ?> registry) {
    return new ProviderContext(ByopConfig.defaults(), Settings.of(registry), Path.of("target/byop-data"));
  }

  @Test
  void foundThroughTheServiceLoader() {
    List<String> ids = ServiceLoader.load(RegistryClientFactory.class).stream()
        .map(p -> p.get().id()).toList();
    assertEquals(List.of(DistributionRegistryClientFactory.ID), ids);
  }

  @Test
  void applicableOnlyWithAnAddressAndSaysWhy() {
    var f = new DistributionRegistryClientFactory();
    var no = f.applicability(context(Map.of()));
    assertFalse(no.applicable());
    assertTrue(no.reason().contains("registry.address"), no.reason());
    assertTrue(f.applicability(context(Map.of("address", "127.0.0.1:5000"))).applicable());
  }

  @Test
  void explicitCredentialsFromTheSectionAreUsed() {
    Map<String, Object> section = Map.of("address", "127.0.0.1:5000", "username", "ci",
        "password", SecretRef.Env.in("PW", Map.of("PW", "from-env")), "maxAttempts", 2, "retryFor", "3s");
    try (RegistryClient c = new DistributionRegistryClientFactory().create(context(section))) {
      assertEquals("ci", c.credentialsFor("127.0.0.1:5000").username());
      assertEquals("from-env", c.credentialsFor("127.0.0.1:5000").secret().reveal());
    }
  }

  @Test
  void insecureRegistriesAreHostPortsWithoutSchemeOrPath() {
    for (String bad : List.of("http://10.0.0.1:5000", "10.0.0.1:5000/v2", "10.0.0.1:port", "")) {
      var e = assertThrows(dev.byop.core.ValidationException.class, () -> new DistributionRegistryClientFactory()
          .create(context(Map.of("address", "10.0.0.1:5000", "insecureRegistries", List.of(bad)))));
      assertTrue(e.getMessage().contains("registry.insecureRegistries") && e.getMessage().contains("host:port"),
          e.getMessage());
    }
    try (RegistryClient c = new DistributionRegistryClientFactory().create(context(Map.of("address", "10.0.0.1:5000",
        "insecureRegistries", List.of("10.0.0.1:5000", "[fd00::1]:5000", "registry.lan"))))) {
      assertTrue(c instanceof DistributionRegistryClient);
    }
  }

  @Test
  void unknownKeysAreRefusedByName() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> new DistributionRegistryClientFactory().create(context(Map.of("address", "r:1", "pasword", "x"))));
    assertTrue(e.getMessage().contains("pasword"), e.getMessage());
  }
}
