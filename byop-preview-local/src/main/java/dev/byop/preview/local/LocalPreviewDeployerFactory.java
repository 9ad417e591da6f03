package dev.byop.preview.local;

import dev.byop.core.spi.Applicability;
import dev.byop.core.spi.PreviewDeployer;
import dev.byop.core.spi.PreviewDeployerFactory;
import dev.byop.core.spi.ProviderContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

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

  /** The keys of the {@code preview} section this deployer reads, beside the preview manager's. */
  static final Set<String> KEYS = Set.of("provider", "domain", "router", "readyTimeout", "commandTimeout", "instance",
      "docker", "compose", "dockerHost", "workDir", "caddy", "traefik");

  @Override
  public Set<String> settingsKeys() {
    return KEYS;
  }

  @Override
  public void checkSettings(ProviderContext context) {
    LocalPreviewOptions.from(context.settings(), context.dataDir());
  }

  @Override
  public PreviewDeployer create(ProviderContext context) {
    return new LocalPreviewDeployer(LocalPreviewOptions.from(context.settings(), context.dataDir()));
  }
}
