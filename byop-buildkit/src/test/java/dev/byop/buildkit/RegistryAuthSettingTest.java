package dev.byop.buildkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.ConfigException;
import dev.byop.core.Settings;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RegistryAuthSettingTest {
  @Test
  void hostsAreValidatedAndNormalizedLikeCredentialLookups() {
    assertEquals(Set.of("registry.acme.dev", "10.0.0.5:5000", "docker.io"), BuildKitImageBuilderFactory.registryAuth(
        Settings.of(Map.of("registryAuth", List.of("Registry.ACME.dev", "10.0.0.5:5000", "index.docker.io")))));
    assertEquals(Set.of(), BuildKitImageBuilderFactory.registryAuth(Settings.of(Map.of())));
    for (String bad : List.of("https://registry.acme.dev", "host/path", "-x", "a b", "")) {
      ConfigException e = assertThrows(ConfigException.class, () -> BuildKitImageBuilderFactory.registryAuth(
          Settings.of(Map.of("registryAuth", List.of(bad)))), bad);
      assertTrue(e.getMessage().contains("registryAuth") && e.getMessage().contains("'" + bad + "'"), e.getMessage());
    }
  }
}
