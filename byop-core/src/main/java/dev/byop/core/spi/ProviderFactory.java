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

  /** Makes the provider; the caller closes it if it is {@link AutoCloseable}. */
  T create(ProviderContext context);
}
