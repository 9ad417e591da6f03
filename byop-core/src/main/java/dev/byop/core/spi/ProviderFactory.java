package dev.byop.core.spi;

/**
 * Makes one kind of provider. Implementations are registered explicitly with {@code Byop.builder()} or listed in
 * {@code META-INF/services} under their kind's interface (e.g. {@link ImageBuilderFactory}). When configuration names
 * an id, that factory is used; otherwise the applicable factory with the highest priority.
 *
 * <p>Methods with defaults may be added in later versions; existing plugins keep working.
 *
 * @param <T> what the factory makes
 */
public interface ProviderFactory<T> {
  /** A short stable id used in configuration, e.g. {@code buildkit}, {@code jdbc}, {@code static}. */
  String id();

  /** Higher wins when configuration names no id. */
  default int priority() {
    return 0;
  }

  /** Whether this factory can serve the given configuration (e.g. is the Docker socket there?), and why not. */
  default Applicability applicability(ProviderContext context) {
    return Applicability.yes();
  }

  /**
   * The top-level keys of its section this factory reads, or empty when it does not declare them. {@code Byop} checks
   * the {@code preview} section at start against the preview manager's keys plus the chosen deployer's, so an unknown
   * key is refused before anything runs.
   */
  default java.util.Set<String> settingsKeys() {
    return java.util.Set.of();
  }

  /**
   * Checks its settings as {@link #create} would, without opening anything (no connection, no file), throwing
   * {@link dev.byop.core.ConfigException} naming the bad key; {@code Byop} calls it at start for the chosen deployer.
   */
  default void checkSettings(ProviderContext context) { }

  /** Makes the provider; the caller closes it if it is {@link AutoCloseable}. */
  T create(ProviderContext context);
}
