package dev.byop.buildkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.docker.DockerDiscovery;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The provider report says which engine the builder uses and how it was found (as the Docker CLI finds it). */
class ProviderReportTest {
  @TempDir Path dir;

  @Test
  void theReportNamesTheEngineAndWhyItWasChosen() {
    DockerDiscovery.Found found = DockerDiscovery.discover();
    assertEquals("BuildKit of the Docker Engine at " + found, builderDetail(Map.of()));
    assertEquals("BuildKit at tcp://127.0.0.1:1234", builderDetail(Map.of("endpoint", "tcp://127.0.0.1:1234")));
  }

  private String builderDetail(Map<String, Object> builder) {
    try (Byop byop = Byop.builder().config(ByopConfig.of(Map.of("dataDir", dir.toString(), "builder", builder)))
        .discover(getClass().getClassLoader()).build()) {
      return byop.describeProviders().stream().filter(c -> c.kind() == Byop.Kind.BUILDER).findFirst().orElseThrow()
          .detail();
    }
  }
}
