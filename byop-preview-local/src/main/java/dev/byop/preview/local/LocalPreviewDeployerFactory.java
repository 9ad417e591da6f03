package dev.byop.preview.local;

import dev.byop.core.spi.Applicability;
import dev.byop.core.spi.PreviewDeployer;
import dev.byop.core.spi.PreviewDeployerFactory;
import dev.byop.core.spi.ProviderContext;
import java.nio.file.Files;
import java.nio.file.Path;

/** Makes the {@link LocalPreviewDeployer}; provider id {@code local}, found by {@link java.util.ServiceLoader}. */
public final class LocalPreviewDeployerFactory implements PreviewDeployerFactory {
  @Override
  public String id() {
    return "local";
  }

  @Override
  public int priority() {
    return 10;
  }

  @Override
  public Applicability applicability(ProviderContext context) {
    LocalPreviewOptions o = LocalPreviewOptions.from(context.settings(), context.dataDir());
    String host = o.dockerHost() != null ? o.dockerHost() : System.getenv().getOrDefault("DOCKER_HOST",
        "unix:///var/run/docker.sock");
    if (host.startsWith("unix://") && !Files.exists(Path.of(host.substring(7)))) {
      return Applicability.no("no Docker Engine socket at " + host.substring(7));
    }
    return Applicability.yes();
  }

  @Override
  public PreviewDeployer create(ProviderContext context) {
    return new LocalPreviewDeployer(LocalPreviewOptions.from(context.settings(), context.dataDir()));
  }
}
