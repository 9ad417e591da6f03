package dev.byop.registry;

import dev.byop.core.Settings;
import dev.byop.core.spi.Applicability;
import dev.byop.core.spi.ProviderContext;
import dev.byop.core.spi.RegistryClient;
import dev.byop.core.spi.RegistryClientFactory;

/**
 * Makes the {@link DistributionRegistryClient} from the {@code registry} section; applicable when that section names
 * an {@code address} (without one, images stay in the builder's local engine).
 *
 * <pre>{@code
 * registry:
 *   address: 127.0.0.1:5000          # required
 *   username: ci                     # optional, with password: explicit credentials win over ~/.docker/config.json
 *   password: { env: REGISTRY_PASSWORD }
 *   dockerConfig: /path/config.json  # optional, default $DOCKER_CONFIG/config.json or ~/.docker/config.json
 *   dockerHost: unix:///var/run/docker.sock   # the engine that pushes (default DOCKER_HOST)
 *   maxAttempts: 4                   # retries for connection errors and 5xx
 *   retryFor: 30s
 *   requestTimeout: 5m
 * }</pre>
 */
public final class DistributionRegistryClientFactory implements RegistryClientFactory {
  public static final String ID = "distribution";

  @Override
  public String id() {
    return ID;
  }

  @Override
  public Applicability applicability(ProviderContext context) {
    Settings s = context.settings();
    if (s.string("address").isEmpty()) {
      return Applicability.no("no registry configured (registry.address is not set); images stay in the local engine");
    }
    return Applicability.yes();
  }

  @Override
  public RegistryClient create(ProviderContext context) {
    return DistributionRegistryClient.fromSettings(context.settings());
  }
}
