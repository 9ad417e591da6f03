package dev.byop.preview.local;

import dev.byop.core.Settings;
import dev.byop.core.spi.Applicability;
import dev.byop.core.spi.PreviewDeployer;
import dev.byop.core.spi.PreviewDeployerFactory;
import dev.byop.core.spi.ProviderContext;
import dev.byop.preview.compose.ComposeDeployer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Makes local previews: a {@link ComposeDeployer} on this machine ({@link LocalHost}, {@link LocalPlacement}) with
 * the configured router; provider id {@code local}, found by {@link java.util.ServiceLoader}. Options are described
 * in {@link LocalPreviewOptions}.
 */
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

  /** The keys of the {@code preview} section local previews read, beside the preview manager's. */
  static final Set<String> KEYS = Set.copyOf(LocalPreviewOptions.KEYS);

  @Override
  public Set<String> settingsKeys() {
    return KEYS;
  }

  @Override
  public void checkSettings(ProviderContext context) {
    LocalPreviewOptions.from(context.settings(), context.dataDir());
    login(context.config().section("registry"));
  }

  @Override
  public PreviewDeployer create(ProviderContext context) {
    return deployer(LocalPreviewOptions.from(context.settings(), context.dataDir()),
        login(context.config().section("registry")));
  }

  /**
   * The deployer of local previews for {@code options}.
   *
   * @param login credentials for pulling images a build pushed and the engine lacks, or null
   */
  public static ComposeDeployer deployer(LocalPreviewOptions options, LocalPlacement.@Nullable RegistryLogin login) {
    return new ComposeDeployer(new LocalPlacement(options.host(), login, options.commandTimeout()),
        options.previewRouter(), options.deployerOptions());
  }

  /** The credentials of the top-level {@code registry} section, when it has an address and a user. */
  static LocalPlacement.@Nullable RegistryLogin login(Settings registry) {
    if (!registry.has("address") || !registry.has("username") || !registry.has("password")) return null;
    try {
      return new LocalPlacement.RegistryLogin(registry.requireString("address"), registry.requireString("username"),
          registry.requireSecret("password"));
    } catch (dev.byop.core.ValidationException e) {
      throw registry.error("address", e.getMessage());
    }
  }
}
