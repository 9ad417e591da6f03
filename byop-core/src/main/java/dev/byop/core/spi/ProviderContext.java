package dev.byop.core.spi;

import dev.byop.core.ByopConfig;
import dev.byop.core.Settings;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What a factory sees when asked whether it applies and when creating its provider.
 *
 * @param config the whole configuration
 * @param settings this provider's own section (e.g. {@code builder}); empty when there is none
 * @param dataDir the host's data directory (for caches and embedded databases)
 * @param providers the other providers of the same {@code Byop} instance, so that a provider uses the ones the host
 *     configured (and closes) instead of making its own
 */
public record ProviderContext(ByopConfig config, Settings settings, Path dataDir, Providers providers) {

  /** A context with no other providers to look up (tests, stand-alone use). */
  public ProviderContext(ByopConfig config, Settings settings, Path dataDir) {
    this(config, settings, dataDir, Providers.NONE);
  }

  /** Looks up another provider of the same instance; it is opened on first use and owned by that instance. */
  @FunctionalInterface
  public interface Providers {
    Providers NONE = new Providers() {
      @Override
      public <T> Optional<T> find(Class<T> type) {
        return Optional.empty();
      }
    };

    /**
     * The provider of the given kind ({@link CloudProvider}, {@link RegistryClient}, {@link ImageBuilder}), or empty
     * when none is configured or fits; {@link dev.byop.core.ByopListener} gives the instance's listeners, for what a
     * provider reports ({@link dev.byop.core.ByopListener#imageDelivered}). The caller must not close it.
     */
    <T> Optional<T> find(Class<T> type);
  }
}
